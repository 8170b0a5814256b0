"""Who a bearer token belongs to, remembered for a while: every authenticated call looked it
up in the database, a round trip as costly as the call's own work."""

from __future__ import annotations

import time
import uuid

#: How long a token's person is remembered. Sessions are never revoked today; should they
#: be, a revoked token keeps working in other booking processes for at most this long.
TTL_S = 60.0
#: Tokens remembered at most (the oldest is forgotten first).
SIZE = 10_000


class SessionCache:
    """Token digest → person, for tokens seen to be valid within ``ttl_s``."""

    def __init__(self, *, ttl_s: float = TTL_S, size: int = SIZE) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._people: dict[bytes, tuple[uuid.UUID, float]] = {}

    def get(self, digest: bytes) -> uuid.UUID | None:
        """The person, if the token was seen valid lately."""
        found = self._people.get(digest)
        if found is None:
            return None
        person_id, expires = found
        if time.monotonic() >= expires:
            del self._people[digest]
            return None
        return person_id

    def put(self, digest: bytes, person_id: uuid.UUID) -> None:
        """Remember a token the database said is valid."""
        self._people.pop(digest, None)
        self._people[digest] = (person_id, time.monotonic() + self._ttl_s)
        while len(self._people) > self._size:
            del self._people[next(iter(self._people))]
