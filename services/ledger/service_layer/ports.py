"""What the ledger's use cases need: one transaction over its own database, and the payment
provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from services.ledger.domain.communities import Community
from services.ledger.domain.postings import Posting
from services.ledger.domain.rules import Coverage, Visit

if TYPE_CHECKING:
    from services.ledger.service_layer.expenses import Expense, Receipt


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

    async def community_of_visit(
        self, neighbourhood: str, partner_id: uuid.UUID | None, *, lock: bool = False
    ) -> Community:
        """The community whose rules a visit follows: the referring partner's, if the partner
        has one, else its cell's (``community_id_for``); locked as ``community_of`` is."""
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

    async def last_entry(self, account: str) -> int:
        """The id of an account's latest entry (0 for none): what a balance was read at."""
        ...

    async def posting_by_ref(self, external_ref: str) -> Posting | None:
        """The posting of a provider's payment or payout id."""
        ...

    async def payout_account(self, owner: str) -> str | None:
        """The provider's id of an owner's payout account."""
        ...

    async def record_provider_object(self, kind: str, obj: ProviderObject, owner: str) -> None:
        """Remember a payment or payout the provider made (by its id; again: no change)."""
        ...

    async def provider_object(self, provider_id: str) -> ProviderObject | None:
        """A payment or payout the ledger asked of the provider."""
        ...

    async def set_provider_status(self, provider_id: str, status: str) -> None:
        """What the provider says of it now."""
        ...

    async def first_webhook(self, event_id: str, kind: str) -> bool:
        """Remember a provider event; False when it was processed before."""
        ...

    async def add_expense(self, expense: Expense, receipt: Receipt | None) -> None:
        """Keep a recorded expense and its receipt photo."""
        ...

    async def expense(self, expense_id: uuid.UUID, *, lock: bool = False) -> Expense | None:
        """An expense (locked until commit when ``lock``)."""
        ...

    async def set_expense_status(self, expense_id: uuid.UUID, status: str, at: datetime) -> None:
        """Mark an expense confirmed or disputed."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderObject:
    """A payment or a payout as the provider reported it."""

    provider_id: str
    amount: int
    currency: str
    status: str
    owner: str | None = None


class ProviderError(Exception):
    """The provider refused or could not be reached; the message says which."""


class PaymentProvider(Protocol):
    """A card-payment and payout API. Kith sends it amounts and the provider's own ids (a
    payment method made by the provider's client library, a connected account); never a
    card number."""

    async def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        owner: str,
        idempotency_key: str,
    ) -> ProviderObject:
        """Charge ``payment_method``; the outcome arrives later by webhook."""
        ...

    async def create_payout(
        self, *, amount: int, currency: str, destination: str, owner: str, idempotency_key: str
    ) -> ProviderObject:
        """Send ``amount`` to a connected account."""
        ...

    async def payouts_since(self, since: datetime) -> list[ProviderObject]:
        """Every payout made since ``since``, as the provider has them."""
        ...
