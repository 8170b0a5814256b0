"""Accounts, entries and postings: the double-entry core.

Every amount is a whole number of its unit's smallest part: minutes for ``hour`` (an hour
is 60), minor units (pence) for a currency. A posting is balanced when, for every unit, its
entries sum to zero; the database refuses any other (``001_ledger.sql``), and ``Posting``
refuses one before it gets there.

Sign: an account's balance is the sum of its entries. A person's ``time`` account grows
with each hour they give and shrinks with each hour they receive; their ``money`` account
is what Kith owes them (earnings, expenses to repay) less what they owe (visits paid for).
The provider's account is the mirror of the money held there, so that every unit's
accounts together always sum to zero.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

#: The unit of time credits and gifted hours; amounts in minutes.
HOUR = "hour"
MINUTES_PER_HOUR = 60


class Kind(StrEnum):
    """What a posting records."""

    VISIT = "visit"
    LATE_CANCELLATION = "late_cancellation"
    GIFT = "gift"
    EXPENSE = "expense"
    MILEAGE = "mileage"
    PAYMENT = "payment"
    PAYOUT = "payout"
    CORRECTION = "correction"


class Mode(StrEnum):
    """How a community's hours are paid for; several may be on at once."""

    PAID = "paid"
    TIME_CREDITS = "time_credits"
    GIFTED = "gifted"


class Unbalanced(ValueError):
    """A posting whose entries do not sum to zero in some unit."""


def person_account(person_id: uuid.UUID, kind: str) -> str:
    """A person's ``time`` or ``money`` account."""
    return f"person:{person_id}:{kind}"


def owner_account(owner: str, kind: str) -> str:
    """The ``kind`` account of an owner named ``person:<id>``, ``partner:<id>`` or ``kith``."""
    return f"{owner}:{kind}"


def pot_account(community_id: str) -> str:
    """A community's pot of gifted hours."""
    return f"community:{community_id}:pot"


#: The money held at the payment provider, as its mirror (see the module's docstring).
PROVIDER_ACCOUNT = "kith:provider"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a posting: ``amount`` (signed, never zero) of ``unit`` on ``account``."""

    account: str
    unit: str
    amount: int


@dataclass(frozen=True, slots=True)
class Posting:
    """Entries that stand or fall together, and what they record.

    Raises:
        Unbalanced: the entries do not sum to zero in every unit, or there are none.
    """

    kind: Kind
    entries: tuple[Entry, ...]
    mode: Mode | None = None
    community_id: str | None = None
    event_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    """Whom it was for: the neighbour of a visit (a pot's monthly allowance counts by it)."""
    external_ref: str | None = None
    """The provider's id of a payment or payout, or a webhook's event: posted once each."""
    corrects: uuid.UUID | None = None
    occurred_at: datetime | None = None
    memo: str = ""
    posting_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if not self.entries:
            raise Unbalanced("a posting needs entries")
        for unit, total in totals(self.entries).items():
            if total != 0:
                raise Unbalanced(f"{self.kind} does not balance in {unit}: {total:+d}")
        if any(entry.amount == 0 for entry in self.entries):
            raise Unbalanced("an entry of zero records nothing")


def totals(entries: Iterable[Entry]) -> dict[str, int]:
    """The sum of ``entries`` per unit."""
    sums: dict[str, int] = defaultdict(int)
    for entry in entries:
        sums[entry.unit] += entry.amount
    return dict(sums)


def transfer(debit: str, credit: str, unit: str, amount: int) -> tuple[Entry, Entry]:
    """``amount`` of ``unit`` from ``debit`` to ``credit``: two entries summing to zero."""
    return (Entry(debit, unit, -amount), Entry(credit, unit, amount))


def reversal(original: Posting, *, memo: str, occurred_at: datetime) -> Posting:
    """A correction: the original's entries with their signs turned. Entries are never
    edited; the original stays, and both together sum to nothing."""
    return Posting(
        Kind.CORRECTION,
        tuple(Entry(e.account, e.unit, -e.amount) for e in original.entries),
        mode=original.mode,
        community_id=original.community_id,
        booking_id=original.booking_id,
        request_id=original.request_id,
        person_id=original.person_id,
        corrects=original.posting_id,
        occurred_at=occurred_at,
        memo=memo,
    )
