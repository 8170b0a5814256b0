"""What booking's use cases work through: its unit of work, and the sessions remembered.

The repository is named here rather than described: the use cases call nearly all of its
queries (about 150), so a Protocol would be a second copy of every signature with no second
implementation to answer for (booking's use cases run against real PostgreSQL in their
tests); naming it once keeps the service layer's one tie to the adapter in one place.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from services.booking.adapters.repository import Repository

__all__ = ["Repository", "Sessions", "UnitOfWork"]


class UnitOfWork(Protocol):
    """Booking's three ways into its database; each is a
    ``shared.unit_of_work.UnitOfWorkStarter[Repository]``, the shape every service's unit of
    work has.

    Events written through ``Repository.publish`` go to the outbox in the same transaction as
    the change that caused them. A database's refusal the rules name (a double booking, an
    hour already taken) reaches the use case as the domain's own ``Conflict``.
    """

    def begin(self) -> AbstractAsyncContextManager[Repository]:
        """A transaction: committed when the block ends cleanly, rolled back on an error.
        Inside ``outer`` it joins the enclosing transaction instead."""
        ...

    def read(self) -> AbstractAsyncContextManager[Repository]:
        """Reads, and single statements, that need no transaction (one statement is atomic
        on its own); inside ``outer`` they join it."""
        ...

    def outer(self) -> AbstractAsyncContextManager[Repository]:
        """A transaction that every ``begin`` and ``read`` of this task joins until it ends
        (an inbox record, or an idempotency key, commits with the change it guards)."""
        ...


class Sessions(Protocol):
    """Who a bearer token belongs to, remembered for a while by this process.

    Tokens are known by their digest. A sign-out is told to every process (the adapter's
    NOTIFY); ``forget`` and ``forget_person`` apply it here at once as well.
    """

    @property
    def sign_outs(self) -> int:
        """Sign-outs heard so far: an answer asked for before one is not remembered."""
        ...

    def get(self, digest: bytes) -> uuid.UUID | None:
        """The person, if the token was seen valid lately."""
        ...

    def put(
        self, digest: bytes, person_id: uuid.UUID, *, asked_at: int, valid_for_s: float
    ) -> None:
        """Remember a token the database said is valid (for at most ``valid_for_s`` more),
        unless a sign-out was heard since it was asked (``asked_at``: ``sign_outs`` then)."""
        ...

    def forget(self, digest: bytes) -> None:
        """Forget one token (signed out)."""
        ...

    def forget_person(self, person_id: uuid.UUID) -> None:
        """Forget every token of one person (signed out everywhere)."""
        ...
