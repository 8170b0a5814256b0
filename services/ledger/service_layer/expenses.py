"""Expenses and lifts' mileage: a helper records what they spent for a neighbour (with a
photo of the receipt) or how far they drove them; the neighbour confirms; the ledger posts.

The receipt is personal data: it stays in the ledger's database, is shown only to the
visit's two people, and never travels on a topic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.ledger.domain.postings import Kind
from services.ledger.domain.rules import Coverage, expense_posting, mileage_amount, payer_of
from services.ledger.service_layer.ports import LedgerUnitOfWork, NotFound, Refused
from shared.unit_of_work import UnitOfWorkStarter

#: Only a lift is paid by the mile.
LIFT = "lift"


@dataclass(frozen=True, slots=True)
class Expense:
    """An expense or a lift's mileage, as recorded (without the receipt's bytes)."""

    expense_id: uuid.UUID
    kind: Kind
    booking_id: uuid.UUID
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    community_id: str
    currency: str
    amount: int
    what_for: str
    miles_tenths: int | None
    has_receipt: bool
    status: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt photo."""

    content_type: str
    data: bytes


async def record_expense(
    start: UnitOfWorkStarter[LedgerUnitOfWork],
    *,
    helper_id: uuid.UUID,
    booking_id: uuid.UUID,
    amount: int,
    what_for: str,
    receipt: Receipt | None,
    now: datetime,
) -> Expense:
    """A helper records money spent for the neighbour of one of their visits.

    Raises:
        NotFound: the ledger knows no such visit of this helper.
    """
    async with start() as uow:
        known = await uow.known_visit(booking_id)
        if known is None or known.visit.helper_id != helper_id:
            raise NotFound("no visit of yours with this booking id")
        community = await uow.community_of_visit(known.visit.neighbourhood, known.visit.partner_id)
        expense = Expense(
            uuid.uuid4(),
            Kind.EXPENSE,
            booking_id,
            helper_id,
            known.visit.neighbour_id,
            community.community_id,
            community.currency,
            amount,
            what_for,
            None,
            receipt is not None,
            "recorded",
            now,
        )
        await uow.add_expense(expense, receipt)
    return expense


async def record_mileage(
    start: UnitOfWorkStarter[LedgerUnitOfWork],
    *,
    helper_id: uuid.UUID,
    booking_id: uuid.UUID,
    miles_tenths: int,
    now: datetime,
) -> Expense:
    """A helper records the miles of a lift, paid at the community's rate.

    Raises:
        NotFound: no such visit of this helper.
        Refused: the visit was not a lift, or the community pays no mileage.
    """
    async with start() as uow:
        known = await uow.known_visit(booking_id)
        if known is None or known.visit.helper_id != helper_id:
            raise NotFound("no visit of yours with this booking id")
        if known.visit.skill != LIFT:
            raise Refused("mileage is paid for lifts only")
        community = await uow.community_of_visit(known.visit.neighbourhood, known.visit.partner_id)
        if community.mileage_rate <= 0:
            raise Refused(f"{community.community_id} pays no mileage")
        expense = Expense(
            uuid.uuid4(),
            Kind.MILEAGE,
            booking_id,
            helper_id,
            known.visit.neighbour_id,
            community.community_id,
            community.currency,
            mileage_amount(miles_tenths, community.mileage_rate),
            f"{miles_tenths / 10:.1f} miles at {community.mileage_rate} a mile",
            miles_tenths,
            False,
            "recorded",
            now,
        )
        await uow.add_expense(expense, None)
    return expense


async def decide(
    start: UnitOfWorkStarter[LedgerUnitOfWork],
    *,
    neighbour_id: uuid.UUID,
    expense_id: uuid.UUID,
    confirm: bool,
    now: datetime,
) -> Expense:
    """The neighbour confirms an expense (the ledger posts it: whoever pays for them owes the
    helper) or disputes it (nothing is posted; operators see it).

    Raises:
        NotFound: no such expense for this neighbour.
        Refused: it was already confirmed or disputed.
    """
    async with start() as uow:
        expense = await uow.expense(expense_id, lock=True)
        if expense is None or expense.neighbour_id != neighbour_id:
            raise NotFound("no expense of yours with this id")
        if expense.status != "recorded":
            raise Refused(f"this expense was already {expense.status}")
        if not confirm:
            await uow.set_expense_status(expense_id, "disputed", now)
            return expense
        community = await uow.community(expense.community_id)
        known = await uow.known_visit(expense.booking_id)
        assert community is not None, "an expense's community is never deleted"
        assert known is not None, "an expense is recorded against a known visit"
        coverage: Coverage = await uow.coverage(known.visit, community, now)
        # Shopping money is the neighbour's (or their family's); a lift is paid like the visit.
        payer = (
            payer_of(known.visit, community, coverage)
            if expense.kind is Kind.MILEAGE
            else coverage.payer or f"person:{neighbour_id}"
        )
        posting = expense_posting(
            kind=expense.kind,
            payer=payer,
            helper_id=expense.helper_id,
            booking_id=expense.booking_id,
            neighbour_id=neighbour_id,
            community_id=expense.community_id,
            currency=expense.currency,
            amount=expense.amount,
            expense_id=expense_id,
            occurred_at=now,
        )
        await uow.post(posting)
        await uow.set_expense_status(expense_id, "confirmed", now)
    return expense
