"""Who a bearer token belongs to, remembered for a while: every authenticated call looked it
up in the database, a round trip as costly as the call's own work.

Signing out deletes sessions and sends a NOTIFY on ``SESSIONS_CHANNEL`` from the same
statement; every booking process listens and forgets those tokens at once, so a token
signed out in one process stops working in all of them.
"""

from __future__ import annotations

import time
import uuid

#: How long a token's person is remembered. A sign-out reaches every process's cache at
#: once by NOTIFY; this bounds what a missed one (a lost listening connection) could cost,
#: and the cache is emptied whenever listening starts again.
TTL_S = 60.0
#: Tokens remembered at most (the oldest is forgotten first).
SIZE = 10_000
#: The channel sign-outs are told on: ``token:<sha256 hex>`` or ``person:<uuid>``.
SESSIONS_CHANNEL = "kith_sessions"


def token_signed_out(digest: bytes) -> str:
    """The NOTIFY payload for one token signed out."""
    return f"token:{digest.hex()}"


def person_signed_out(person_id: uuid.UUID) -> str:
    """The NOTIFY payload for every token of one person signed out."""
    return f"person:{person_id}"


class SessionCache:
    """Token digest → person, for tokens seen to be valid within ``ttl_s``."""

    def __init__(self, *, ttl_s: float = TTL_S, size: int = SIZE) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._people: dict[bytes, tuple[uuid.UUID, float]] = {}
        self.sign_outs = 0
        """Sign-outs heard so far: a lookup begun before one may not be remembered."""

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

    def put(
        self, digest: bytes, person_id: uuid.UUID, *, asked_at: int, valid_for_s: float = TTL_S
    ) -> None:
        """Remember a token the database said is valid (for at most ``valid_for_s`` more),
        unless a sign-out was heard since it was asked (``asked_at``: ``sign_outs`` then):
        its answer may predate the sign-out.
        """
        if asked_at != self.sign_outs:
            return
        self._people.pop(digest, None)
        self._people[digest] = (person_id, time.monotonic() + min(self._ttl_s, valid_for_s))
        while len(self._people) > self._size:
            del self._people[next(iter(self._people))]

    def forget(self, digest: bytes) -> None:
        """Forget one token (signed out)."""
        self.sign_outs += 1
        self._people.pop(digest, None)

    def forget_person(self, person_id: uuid.UUID) -> None:
        """Forget every token of one person (signed out everywhere)."""
        self.sign_outs += 1
        for digest in [d for d, (person, _) in self._people.items() if person == person_id]:
            del self._people[digest]

    def clear(self) -> None:
        """Forget every token: sign-outs may have been missed."""
        self.sign_outs += 1
        self._people.clear()

    def signed_out(self, payload: str) -> None:
        """Apply one ``SESSIONS_CHANNEL`` payload; one it cannot read empties the cache."""
        kind, _, value = payload.partition(":")
        try:
            if kind == "token":
                self.forget(bytes.fromhex(value))
                return
            if kind == "person":
                self.forget_person(uuid.UUID(value))
                return
        except ValueError:
            pass
        self.clear()
