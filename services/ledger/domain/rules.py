"""What each mode posts for a visit, a late cancellation, a gift, an expense and a lift.

Pure functions of the visit, the community's settings and what the ledger already holds
(``Coverage``): the unit tests run every rule without a database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.ledger.domain.communities import Community, PotRule
from services.ledger.domain.postings import (
    HOUR,
    MINUTES_PER_HOUR,
    Entry,
    Kind,
    Mode,
    Posting,
    owner_account,
    person_account,
    pot_account,
    transfer,
)


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit as the ledger knows it from booking's events."""

    booking_id: uuid.UUID
    request_id: uuid.UUID
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: str
    skill: str
    starts_at: datetime
    hours: int
    partner_id: uuid.UUID | None = None
    """The partner who referred the neighbour (``booking.confirmed`` version 2), if any."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the pot can do for one visit, read from the ledger under the pot's lock.

    Attributes:
        pot_minutes: The community's pot now.
        approved: An operator approved covering this visit's request from the pot.
        drawn_this_month_minutes: What the neighbour has drawn from the pot this month.
        payer: Who pays for the neighbour (a family member, a partner), if anyone.
    """

    pot_minutes: int = 0
    approved: bool = False
    drawn_this_month_minutes: int = 0
    payer: str | None = None


def pot_covers(visit: Visit, community: Community, coverage: Coverage) -> bool:
    """Whether the visit is covered from the pot under the community's rule."""
    if Mode.GIFTED not in community.modes:
        return False
    needed = visit.hours * MINUTES_PER_HOUR
    if coverage.pot_minutes < needed:
        return False
    if community.pot_rule is PotRule.APPROVAL:
        return coverage.approved
    allowance = community.monthly_allowance_hours * MINUTES_PER_HOUR
    return coverage.approved or coverage.drawn_this_month_minutes + needed <= allowance


def mode_for(visit: Visit, community: Community, coverage: Coverage) -> Mode | None:
    """The mode a visit is posted in when several are on: the pot first when it covers the
    request (it was given for exactly that), then paid when the skill has a rate, then time
    credits; ``None`` when no mode applies (nothing is posted)."""
    if pot_covers(visit, community, coverage):
        return Mode.GIFTED
    if Mode.PAID in community.modes and community.rates.get(visit.skill, 0) > 0:
        return Mode.PAID
    if Mode.TIME_CREDITS in community.modes:
        return Mode.TIME_CREDITS
    return None


def payer_of(visit: Visit, community: Community, coverage: Coverage) -> str:
    """Who pays for a paid visit: the neighbour's own payer, else the community's (a
    partner's budget), else the neighbour."""
    return coverage.payer or community.payer or f"person:{visit.neighbour_id}"


def _entries(
    visit: Visit, community: Community, coverage: Coverage, mode: Mode, percent: int
) -> tuple[Entry, ...]:
    minutes = visit.hours * MINUTES_PER_HOUR * percent // 100
    helper_time = person_account(visit.helper_id, "time")
    if mode is Mode.GIFTED:
        return transfer(pot_account(community.community_id), helper_time, HOUR, minutes)
    if mode is Mode.TIME_CREDITS:
        return transfer(person_account(visit.neighbour_id, "time"), helper_time, HOUR, minutes)
    price = community.rates[visit.skill] * visit.hours * percent // 100
    payer = owner_account(payer_of(visit, community, coverage), "money")
    return transfer(payer, person_account(visit.helper_id, "money"), community.currency, price)


def visit_posting(
    visit: Visit,
    community: Community,
    coverage: Coverage,
    *,
    event_id: uuid.UUID,
    occurred_at: datetime,
) -> Posting | None:
    """What a completed visit posts, or ``None`` when its community has no mode for it.

    - gifted: the visit's hours from the pot to the helper's time account;
    - paid: the hourly rate times the hours, from the payer to the helper's money account;
    - time credits: the hours from the neighbour's time account to the helper's.
    """
    mode = mode_for(visit, community, coverage)
    if mode is None:
        return None
    return Posting(
        Kind.VISIT,
        _entries(visit, community, coverage, mode, 100),
        mode=mode,
        community_id=community.community_id,
        event_id=event_id,
        booking_id=visit.booking_id,
        request_id=visit.request_id,
        person_id=visit.neighbour_id,
        occurred_at=occurred_at,
        memo=f"{visit.hours} h of {visit.skill}",
    )


def late_cancellation_posting(
    visit: Visit,
    community: Community,
    coverage: Coverage,
    *,
    cancelled_by_neighbour: bool,
    event_id: uuid.UUID,
    occurred_at: datetime,
) -> Posting | None:
    """What a cancellation inside the notice window posts: the community's share
    (``late_cancel_percent``) of the visit, in the mode it would have been posted in, when
    the neighbour cancelled; nothing when the helper did, or the share rounds to nothing."""
    if not cancelled_by_neighbour or community.late_cancel_percent <= 0:
        return None
    mode = mode_for(visit, community, coverage)
    if mode is None:
        return None
    entries = _entries(visit, community, coverage, mode, community.late_cancel_percent)
    if any(entry.amount == 0 for entry in entries):
        return None
    return Posting(
        Kind.LATE_CANCELLATION,
        entries,
        mode=mode,
        community_id=community.community_id,
        event_id=event_id,
        booking_id=visit.booking_id,
        request_id=visit.request_id,
        person_id=visit.neighbour_id,
        occurred_at=occurred_at,
        memo=f"cancelled late: {community.late_cancel_percent}% of {visit.hours} h",
    )


def gift_posting(giver: str, community_id: str, hours: int, *, occurred_at: datetime) -> Posting:
    """Hours given into a community's pot, from the giver's time account (a neighbour's
    credits, or a business's or partner's pledge, whose account goes below zero)."""
    if hours <= 0:
        raise ValueError("a gift is at least one hour")
    return Posting(
        Kind.GIFT,
        transfer(
            owner_account(giver, "time"),
            pot_account(community_id),
            HOUR,
            hours * MINUTES_PER_HOUR,
        ),
        mode=Mode.GIFTED,
        community_id=community_id,
        occurred_at=occurred_at,
        memo=f"{hours} h given to the pot",
    )


def expense_posting(
    *,
    kind: Kind,
    payer: str,
    helper_id: uuid.UUID,
    booking_id: uuid.UUID,
    neighbour_id: uuid.UUID,
    community_id: str,
    currency: str,
    amount: int,
    expense_id: uuid.UUID,
    occurred_at: datetime,
) -> Posting:
    """A confirmed expense or lift's mileage: the payer owes the helper ``amount``."""
    if kind not in (Kind.EXPENSE, Kind.MILEAGE):
        raise ValueError(f"not an expense: {kind}")
    return Posting(
        kind,
        transfer(
            owner_account(payer, "money"),
            person_account(helper_id, "money"),
            currency,
            amount,
        ),
        community_id=community_id,
        booking_id=booking_id,
        person_id=neighbour_id,
        external_ref=f"expense:{expense_id}",
        occurred_at=occurred_at,
    )


def mileage_amount(miles_tenths: int, rate_per_mile: int) -> int:
    """A lift's mileage in minor units, from tenths of a mile (rounded half up)."""
    return (miles_tenths * rate_per_mile + 5) // 10
