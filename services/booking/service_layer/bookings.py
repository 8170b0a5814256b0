"""Booked visits: reading, checking in and out, cancelling, and the private check-ins."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.booking.domain.errors import Conflict, Forbidden, HoursTaken, Invalid, NotFound
from services.booking.domain.partners import PersonKind, contact_through
from services.booking.domain.visits import (
    BookingStatus,
    RequestStatus,
    address_visible,
    booked_hours,
    check_in_problem,
    is_late_cancel,
    is_on_the_hour,
    may_report_no_show,
    may_reschedule,
    visit_fields,
)
from services.booking.service_layer.commands import SubmitCheckIn
from services.booking.service_layer.ports import Repository, UnitOfWork
from services.booking.service_layer.records import Row
from services.booking.service_layer.requests import help_requested
from shared.contracts import Envelope
from shared.contracts.bookings import (
    BookingCancelled,
    BookingRescheduled,
    RescheduleProposed,
    Side,
    VisitCheckedIn,
    VisitCompleted,
    VisitNoShow,
    WelfareCheckRequested,
)
from shared.contracts.trust import CheckInSubmitted
from shared.settings import Settings

PRODUCER = "booking"
#: What a suspended person is told when they try to act on a visit.
SUSPENDED = (
    "your account is paused while a concern is looked into: you cannot check in or out;"
    " an operator will be in touch"
)


def booking_view(row: Row, viewer: uuid.UUID, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    """What either side sees of a booking (no address: see ``my_booking``)."""
    side = Side.HELPER if row["helper_id"] == viewer else Side.NEIGHBOUR
    return {
        "booking_id": row["booking_id"],
        "request_id": row["request_id"],
        "side": side,
        "skill": row["skill"],
        "starts_at": row["starts_at"],
        "hours": row["hours"],
        "status": row["status"],
        "helper": {"person_id": row["helper_id"], "display_name": names.get(row["helper_id"])},
        "neighbour": {
            "person_id": row["neighbour_id"],
            "display_name": names.get(row["neighbour_id"]),
        },
        "checked_in_at": row["checked_in_at"],
        "completed_at": row["completed_at"],
        "cancelled_at": row["cancelled_at"],
        "late_cancel": row["late_cancel"],
        # Called off by Kith because one side was suspended (see ``safeguarding``).
        "held": row.get("held", False),
        "proposed_reschedule": (
            {
                "starts_at": row["proposed_starts_at"],
                "hours": row["proposed_hours"],
                "proposed_by": row["proposed_by"],
            }
            if row.get("proposed_starts_at") is not None
            else None
        ),
        "no_show_absent": row.get("no_show_absent"),
    }


async def _mine(repo: Repository, person_id: uuid.UUID, booking_id: uuid.UUID) -> Row:
    row = await repo.booking(booking_id, lock=True)
    if row is None or person_id not in {row["helper_id"], row["neighbour_id"]}:
        raise NotFound("no such booking")
    return row


async def my_bookings(
    uow: UnitOfWork, person_id: uuid.UUID, when: str | None, now: datetime, limit: int, offset: int
) -> dict[str, Any]:
    """A page of the person's bookings on either side."""
    async with uow.read() as repo:
        rows = await repo.bookings_of(person_id, when, now, limit + 1, offset)
        names = await repo.display_names(
            list({row["helper_id"] for row in rows} | {row["neighbour_id"] for row in rows})
        )
    items = [booking_view(row, person_id, names) for row in rows[:limit]]
    return {"items": items, "next_offset": offset + limit if len(rows) > limit else None}


async def my_booking(
    uow: UnitOfWork, person_id: uuid.UUID, booking_id: uuid.UUID, now: datetime, settings: Settings
) -> dict[str, Any]:
    """One booking; the neighbour's address, phone and accessibility notes, and the visit's
    notes, only for its confirmed helper, shortly before, and never while that helper is
    suspended."""
    async with uow.read() as repo:
        row = await repo.booking(booking_id)
        if row is None or person_id not in {row["helper_id"], row["neighbour_id"]}:
            raise NotFound("no such booking")
        names = await repo.display_names([row["helper_id"], row["neighbour_id"]])
        view = booking_view(row, person_id, names)
        if not await repo.is_suspended(person_id) and address_visible(
            is_helper=row["helper_id"] == person_id,
            status=row["status"],
            starts_at=row["starts_at"],
            now=now,
            window_s=settings.address_visible_before_s,
        ):
            # What the neighbour wrote for this visit, shown with the address and under the
            # same rule: to the confirmed helper, shortly before (never on a topic).
            request = await repo.request(row["request_id"])
            view["notes"] = request["notes"] if request is not None else None
            neighbour = await repo.person(row["neighbour_id"])
            if neighbour is not None and neighbour["kind"] == PersonKind.REFERRED:
                # Booking holds no address for a referred neighbour: the partner that
                # referred them arranges the visit.
                partner = await repo.partner_name(neighbour["partner_id"])
                view["neighbour"]["contact"] = contact_through(
                    partner, neighbour["partner_reference"]
                )
            elif neighbour is not None:
                view["neighbour"]["address"] = neighbour["address"]
                view["neighbour"]["phone"] = neighbour["phone"]
                view["neighbour"]["accessibility_notes"] = neighbour.get("accessibility_notes")
    return view


async def check_in(
    uow: UnitOfWork,
    helper_id: uuid.UUID,
    booking_id: uuid.UUID,
    now: datetime,
    opens_before_s: int,
) -> dict[str, Any]:
    """The helper says they have arrived: only around the visit's time (from
    ``opens_before_s`` before its start to its end), so a visit is not ticked off a day early."""

    def window(row: Row) -> str | None:
        return check_in_problem(row["starts_at"], row["hours"], now, opens_before_s)

    return await _helper_step(
        uow, helper_id, booking_id, now, _CHECK_IN, "only the helper checks in", window
    )


async def check_out(
    uow: UnitOfWork, helper_id: uuid.UUID, booking_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The helper leaves: the visit happened."""
    return await _helper_step(
        uow, helper_id, booking_id, now, _CHECK_OUT, "only the helper checks out"
    )


@dataclass(frozen=True)
class _Step:
    """A move only the helper makes: from which status, to which, stamped where, told how."""

    before: BookingStatus
    after: BookingStatus
    stamp: str
    event: type[VisitCheckedIn] | type[VisitCompleted]
    too_early: str


_CHECK_IN = _Step(
    BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, "checked_in_at", VisitCheckedIn, ""
)
_CHECK_OUT = _Step(
    BookingStatus.CHECKED_IN,
    BookingStatus.COMPLETED,
    "completed_at",
    VisitCompleted,
    "check in before checking out",
)


async def _helper_step(
    uow: UnitOfWork,
    helper_id: uuid.UUID,
    booking_id: uuid.UUID,
    now: datetime,
    step: _Step,
    not_helper: str,
    window: Callable[[Row], str | None] | None = None,
) -> dict[str, Any]:
    async with uow.begin() as repo:
        row = await _mine(repo, helper_id, booking_id)
        if row["helper_id"] != helper_id:
            raise Conflict(not_helper)
        if await repo.is_suspended(helper_id):
            raise Forbidden(SUSPENDED)
        if row["status"] == step.after:
            return {"booking_id": booking_id, "status": row["status"]}  # a retry: no change
        if row["status"] != step.before:
            raise Conflict(step.too_early or f"this booking is {row['status']}")
        problem = None if window is None else window(row)
        if problem is not None:
            raise Conflict(problem)
        await repo.update_booking(booking_id, status=step.after.value, **{step.stamp: now})
        await repo.publish([Envelope.wrap(step.event(**visit_fields(row)), producer=PRODUCER)])
    return {"booking_id": booking_id, "status": step.after}


async def cancel(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    booking_id: uuid.UUID,
    reason: str,
    now: datetime,
    settings: Settings,
) -> dict[str, Any]:
    """Either side calls a visit off; the helper's hours are freed.

    When the neighbour cancels, the request is cancelled too. When the helper cancels, the
    request opens again and is asked for anew, so matching can find someone else.
    """
    async with uow.begin() as repo:
        row = await _mine(repo, person_id, booking_id)
        if row["status"] == BookingStatus.CANCELLED:
            return {"booking_id": booking_id, "status": row["status"]}
        if row["status"] != BookingStatus.CONFIRMED:
            raise Conflict(f"this booking is {row['status']}: it can no longer be cancelled")
        side = Side.HELPER if row["helper_id"] == person_id else Side.NEIGHBOUR
        late = is_late_cancel(row["starts_at"], now, settings.late_cancel_window_s)
        await repo.update_booking(
            booking_id,
            status=BookingStatus.CANCELLED.value,
            cancelled_at=now,
            cancelled_by=side.value,
            cancel_reason=reason,
            late_cancel=late,
        )
        await repo.free_helper_hours(booking_id)
        events: list[Envelope[Any]] = [
            Envelope.wrap(
                BookingCancelled(**visit_fields(row), cancelled_by=side, late=late),
                producer=PRODUCER,
            )
        ]
        if side is Side.NEIGHBOUR or row["starts_at"] <= now:
            await repo.set_request_status(row["request_id"], RequestStatus.CANCELLED)
        else:
            # A new ask of the same occurrence: matching offers it again at once, to anyone
            # but this helper.
            await repo.set_request_status(row["request_id"], RequestStatus.OPEN)
            request = await repo.request(row["request_id"])
            if request is not None:
                events.append(Envelope.wrap(help_requested(request), producer=PRODUCER))
        await repo.publish(events)
        other = row["neighbour_id"] if side is Side.HELPER else row["helper_id"]
        told = {"booking_id": str(booking_id), "request_id": str(row["request_id"])}
        await repo.notify(other, "booking.cancelled", told)
    return {"booking_id": booking_id, "status": BookingStatus.CANCELLED, "late": late}


async def submit_check_in(uow: UnitOfWork, command: SubmitCheckIn) -> dict[str, Any]:
    """Store one side's private answers about a completed visit, once."""
    async with uow.begin() as repo:
        row = await _mine(repo, command.author_id, command.booking_id)
        if row["status"] != BookingStatus.COMPLETED:
            raise Conflict("check-ins open once the visit is completed")
        helper_id, neighbour_id = row["helper_id"], row["neighbour_id"]
        about_id = neighbour_id if command.author_id == helper_id else helper_id
        if await repo.is_erased(about_id):
            # Their pairs ended with the account; nothing more is kept about them.
            raise Conflict("the other person's account was deleted")
        checkin_id = uuid.uuid4()
        stored = await repo.add_checkin(
            {
                "checkin_id": checkin_id,
                "booking_id": command.booking_id,
                "author_id": command.author_id,
                "about_id": about_id,
                "see_again": command.see_again.value,
                "as_agreed": command.as_agreed.value,
                "note": command.note,
            }
        )
        if not stored:
            raise Conflict("you have already answered for this visit")
        event = CheckInSubmitted(
            checkin_id=checkin_id,
            booking_id=command.booking_id,
            author_id=command.author_id,
            about_id=about_id,
            helper_id=helper_id,
            neighbour_id=neighbour_id,
            neighbourhood=row["neighbourhood"],
            see_again=command.see_again,
            as_agreed=command.as_agreed,
            has_note=bool(command.note),
        )
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return {"checkin_id": checkin_id, "booking_id": command.booking_id}


def _side(row: Row, person_id: uuid.UUID) -> Side:
    return Side.HELPER if row["helper_id"] == person_id else Side.NEIGHBOUR


async def propose_reschedule(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    booking_id: uuid.UUID,
    starts_at: datetime,
    hours: int | None,
    now: datetime,
) -> dict[str, Any]:
    """Either side proposes a new time; it takes effect only when the other confirms.

    A new proposal replaces a pending one. Nothing moves yet; ``booking.reschedule_proposed``
    (ids and times) goes out with the proposal, through the outbox, so that notify can tell
    the other side.
    """
    if not is_on_the_hour(starts_at):
        raise Invalid("starts_at", "must be on the hour (minutes and seconds zero)")
    if starts_at <= now:
        raise Invalid("starts_at", "must be in the future")
    async with uow.begin() as repo:
        row = await _mine(repo, person_id, booking_id)
        if not may_reschedule(row["status"]):
            raise Conflict(f"this booking is {row['status']}: it can no longer be moved")
        new_hours = hours if hours is not None else row["hours"]
        if starts_at == row["starts_at"] and new_hours == row["hours"]:
            raise Invalid("starts_at", "is the booking's current time")
        side = _side(row, person_id)
        await repo.update_booking(
            booking_id,
            proposed_starts_at=starts_at,
            proposed_hours=new_hours,
            proposed_by=side.value,
        )
        event = RescheduleProposed(
            booking_id=booking_id,
            helper_id=row["helper_id"],
            neighbour_id=row["neighbour_id"],
            neighbourhood=row["neighbourhood"],
            starts_at=row["starts_at"],
            hours=row["hours"],
            proposed_starts_at=starts_at,
            proposed_hours=new_hours,
            proposed_by=side,
        )
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return {
        "booking_id": booking_id,
        "proposed_reschedule": {
            "starts_at": starts_at,
            "hours": new_hours,
            "proposed_by": side,
        },
    }


async def confirm_reschedule(
    uow: UnitOfWork, person_id: uuid.UUID, booking_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The other side confirms a proposed move: the helper's hours move atomically.

    Lock the booking, then free its old helper-hours and take the new ones in the same
    transaction: ``helper_hours_no_overlap`` refuses a move onto another booking of the
    helper (a 409, and nothing has moved), whatever races alongside.
    """
    try:
        async with uow.begin() as repo:
            row = await _mine(repo, person_id, booking_id)
            if row["proposed_starts_at"] is None:
                raise Conflict("there is no proposed new time to confirm")
            if row["proposed_by"] == _side(row, person_id).value:
                raise Conflict("the other side confirms a move you proposed")
            if not may_reschedule(row["status"]):
                raise Conflict(f"this booking is {row['status']}: it can no longer be moved")
            if row["proposed_starts_at"] <= now:
                raise Conflict("the proposed time has passed: propose another")
            starts_at, hours = row["proposed_starts_at"], row["proposed_hours"]
            await repo.free_helper_hours(booking_id)
            await repo.take_helper_hours(
                row["helper_id"], booking_id, booked_hours(starts_at, hours)
            )
            await repo.update_booking(
                booking_id,
                starts_at=starts_at,
                hours=hours,
                proposed_starts_at=None,
                proposed_hours=None,
                proposed_by=None,
            )
            await repo.move_request(row["request_id"], starts_at, hours)
            event = BookingRescheduled(
                **{**visit_fields(row), "starts_at": starts_at, "hours": hours},
                previous_starts_at=row["starts_at"],
                previous_hours=row["hours"],
                proposed_by=Side(row["proposed_by"]),
            )
            await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    except HoursTaken as error:
        raise Conflict("the new time overlaps another booking of the helper") from error
    return {
        "booking_id": booking_id,
        "starts_at": starts_at,
        "hours": hours,
        "status": row["status"],
    }


async def decline_reschedule(
    uow: UnitOfWork, person_id: uuid.UUID, booking_id: uuid.UUID
) -> dict[str, Any]:
    """Either side drops a pending proposal (the proposer withdraws, the other says no)."""
    async with uow.begin() as repo:
        row = await _mine(repo, person_id, booking_id)
        if row["proposed_starts_at"] is None:
            raise Conflict("there is no proposed new time")
        await repo.update_booking(
            booking_id, proposed_starts_at=None, proposed_hours=None, proposed_by=None
        )
    return {"booking_id": booking_id, "proposed_reschedule": None}


async def report_no_show(
    uow: UnitOfWork, person_id: uuid.UUID, booking_id: uuid.UUID, note: str | None, now: datetime
) -> dict[str, Any]:
    """Either side says the other was not there, once the visit was due to start.

    A helper not turning up is a ``visit.no_show`` (absent: helper). A neighbour who does
    not answer the door may be unwell: that raises ``welfare.check_requested`` for
    operators and is deliberately *not* published as a no-show, so no one is penalised.
    """
    async with uow.begin() as repo:
        row = await _mine(repo, person_id, booking_id)
        if row["status"] == BookingStatus.NO_SHOW:
            return {
                "booking_id": booking_id,
                "status": row["status"],
                "absent": row["no_show_absent"],
            }
        if not may_report_no_show(row["status"], row["starts_at"], now):
            raise Conflict("a no-show can be reported once a confirmed visit was due to start")
        reporter = _side(row, person_id)
        absent = Side.NEIGHBOUR if reporter is Side.HELPER else Side.HELPER
        await repo.update_booking(
            booking_id,
            status=BookingStatus.NO_SHOW.value,
            no_show_absent=absent.value,
            no_show_reported_by=reporter.value,
            # The helper's note stays here; the event says only that there is one.
            no_show_note=note,
        )
        await repo.free_helper_hours(booking_id)
        event: VisitNoShow | WelfareCheckRequested
        if absent is Side.NEIGHBOUR:
            event = WelfareCheckRequested(
                booking_id=booking_id,
                neighbour_id=row["neighbour_id"],
                helper_id=row["helper_id"],
                neighbourhood=row["neighbourhood"],
                starts_at=row["starts_at"],
                has_note=bool(note),
            )
        else:
            event = VisitNoShow(**visit_fields(row), absent=absent, reported_by=reporter)
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return {"booking_id": booking_id, "status": BookingStatus.NO_SHOW, "absent": absent}
