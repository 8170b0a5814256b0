"""What the ledger's use cases need: one transaction over its own database, and the payment
provider."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.ledger.domain.communities import Community
from services.ledger.domain.postings import Posting
from services.ledger.domain.rules import Coverage, Visit


class NotFound(Exception):
    """What was asked for is not in the ledger."""


class Refused(Exception):
    """A use case's rule refused the command; the message says why (a 409 over HTTP)."""


@dataclass(frozen=True, slots=True)
class KnownVisit:
    """A visit the ledger heard of, and where it stands."""

    visit: Visit
    status: str


class LedgerUnitOfWork(Protocol):
    """Everything one command or event may read or change, committed together or not at all.

    A posting that does not balance is refused by the database when the transaction commits;
    the adapter raises ``services.ledger.domain.postings.Unbalanced`` then.
    """

    async def community(self, community_id: str) -> Community | None:
        """A community's settings."""
        ...

    async def community_of(self, neighbourhood: str, *, lock: bool = False) -> Community:
        """The community a neighbourhood cell belongs to (``default`` when none), locked until
        commit when ``lock``: what draws on or adds to its pot is serialised by it."""
        ...

    async def community_of_id_lock(self, community_id: str) -> None:
        """Lock a community's row until commit (its pot changes)."""
        ...

    async def record_visit(self, visit: Visit) -> None:
        """Remember a booked visit, or its new time and length; a second time changes nothing
        else."""
        ...

    async def known_visit(self, booking_id: uuid.UUID) -> KnownVisit | None:
        """A visit the ledger heard of."""
        ...

    async def set_visit_status(
        self, booking_id: uuid.UUID, status: str, *, unposted: str | None = None
    ) -> None:
        """Mark a visit completed or cancelled; ``unposted`` says why nothing was posted."""
        ...

    async def coverage(self, visit: Visit, community: Community, month_start: datetime) -> Coverage:
        """What the pot can do for this visit, and who pays for its neighbour."""
        ...

    async def post(self, posting: Posting) -> bool:
        """Write a posting and its entries; False when it was already posted (the same event,
        visit, provider object or correction), in which case nothing is written."""
        ...

    async def posting(self, posting_id: uuid.UUID) -> Posting | None:
        """A posting with its entries."""
        ...

    async def balance(self, account: str) -> int:
        """The sum of an account's entries."""
        ...


class UnitOfWorkStarter(Protocol):
    """Opens one transaction over the ledger's database."""

    def __call__(self) -> AbstractAsyncContextManager[LedgerUnitOfWork]:
        """A unit of work, committed when the block ends without an error."""
        ...
