"""Booking's visit events, posted: each completed visit once, each late cancellation once.

Idempotent without an inbox table: a posting's event id is unique, and a visit (or its late
cancellation) can be posted only once whatever event carries it, so a redelivered or
replayed event posts nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import structlog

from services.ledger.domain.rules import (
    Visit,
    late_cancellation_posting,
    visit_posting,
)
from services.ledger.service_layer.ports import LedgerUnitOfWork
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    BookingKept,
    BookingRescheduled,
    Side,
    VisitCompleted,
)
from shared.unit_of_work import UnitOfWorkStarter

log = structlog.get_logger(__name__)

#: The events that change what the ledger knows of a visit.
VisitEvent = BookingConfirmed | BookingRescheduled | VisitCompleted | BookingCancelled


def visit_of(payload: VisitEvent) -> Visit:
    """The visit an event is about, as the ledger keeps it (only ``booking.confirmed`` says
    which partner referred it; the ledger remembers that from then on)."""
    return Visit(
        booking_id=payload.booking_id,
        request_id=payload.request_id,
        helper_id=payload.helper_id,
        neighbour_id=payload.neighbour_id,
        neighbourhood=str(payload.neighbourhood),
        skill=str(payload.skill),
        starts_at=payload.starts_at,
        hours=payload.hours,
        partner_id=payload.referred_by if isinstance(payload, BookingConfirmed) else None,
    )


async def _as_recorded(uow: LedgerUnitOfWork, visit: Visit) -> Visit:
    """The visit with the referring partner the ledger recorded from its confirmation."""
    await uow.record_visit(visit)
    known = await uow.known_visit(visit.booking_id)
    if known is None or known.visit.partner_id is None:
        return visit
    return replace(visit, partner_id=known.visit.partner_id)


def month_start(at: datetime) -> datetime:
    """The first moment of ``at``'s month (UTC): a pot's monthly allowance counts from it."""
    at = at.astimezone(UTC)
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def handle(envelope: Envelope[Payload], start: UnitOfWorkStarter[LedgerUnitOfWork]) -> bool:
    """Apply one event; True when it posted something."""
    payload = envelope.data
    if isinstance(payload, BookingConfirmed | BookingRescheduled):
        async with start() as uow:
            await uow.record_visit(visit_of(payload))
            if isinstance(payload, BookingKept):
                # A visit a suspension held (cancelled here) goes ahead after all.
                await uow.set_visit_status(payload.booking_id, "booked")
        return False
    if isinstance(payload, VisitCompleted):
        return await _completed(envelope, payload, start)
    if isinstance(payload, BookingCancelled):
        return await _cancelled(envelope, payload, start)
    return False


async def _completed(
    envelope: Envelope[Payload], payload: VisitCompleted, start: UnitOfWorkStarter[LedgerUnitOfWork]
) -> bool:
    async with start() as uow:
        visit = await _as_recorded(uow, visit_of(payload))
        # The community's row is locked first: two visits drawing on one pot must not both
        # see the hours that only one of them can have.
        community = await uow.community_of_visit(visit.neighbourhood, visit.partner_id, lock=True)
        coverage = await uow.coverage(visit, community, month_start(visit.starts_at))
        posting = visit_posting(
            visit, community, coverage, event_id=envelope.event_id, occurred_at=envelope.occurred_at
        )
        if posting is None:
            await uow.set_visit_status(
                visit.booking_id, "completed", unposted=f"{community.community_id}: no mode"
            )
            return False
        posted = await uow.post(posting)
        await uow.set_visit_status(visit.booking_id, "completed")
    if posted:
        log.info("visit posted", booking_id=str(visit.booking_id), mode=str(posting.mode))
    return posted


async def _cancelled(
    envelope: Envelope[Payload],
    payload: BookingCancelled,
    start: UnitOfWorkStarter[LedgerUnitOfWork],
) -> bool:
    async with start() as uow:
        visit = await _as_recorded(uow, visit_of(payload))
        await uow.set_visit_status(visit.booking_id, "cancelled")
        if not payload.late:
            return False
        community = await uow.community_of_visit(visit.neighbourhood, visit.partner_id, lock=True)
        coverage = await uow.coverage(visit, community, month_start(visit.starts_at))
        posting = late_cancellation_posting(
            visit,
            community,
            coverage,
            cancelled_by_neighbour=payload.cancelled_by is Side.NEIGHBOUR,
            event_id=envelope.event_id,
            occurred_at=envelope.occurred_at,
        )
        return posting is not None and await uow.post(posting)
