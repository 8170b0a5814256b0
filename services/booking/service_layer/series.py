"""A weekly or fortnightly request as one commitment.

Its occurrences are made a few weeks ahead, and more by a sweep as time passes, so a series
may run until cancelled. A helper may take a whole series (or the rest of it) on with one
answer: they become its regular, and each later occurrence is booked with them as it is made,
when they are free; otherwise it is offered to others (matching puts familiar faces first).
Either side may step back from a series with notice: the occurrences within the notice stay
booked, and the rest are offered again.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from services.booking.domain.availability import (
    Away,
    DatedException,
    ExtraHours,
    Weekday,
    WeeklyRule,
)
from services.booking.domain.errors import Conflict, NotFound
from services.booking.domain.languages import language_codes
from services.booking.domain.partners import PersonKind
from services.booking.domain.series import SeriesRule, offers_hours
from services.booking.domain.visits import (
    BookingStatus,
    Repeat,
    RequestStatus,
    booked_hours,
    visit_fields,
)
from services.booking.service_layer.ports import Repository, UnitOfWork
from services.booking.service_layer.records import Row
from services.booking.service_layer.requests import help_requested
from services.booking.service_layer.series_events import series_changed
from shared.contracts import Envelope
from shared.contracts.bookings import BookingCancelled, BookingConfirmed, Side
from shared.contracts.requests import ReasonCode

PRODUCER = "booking"
#: Series made per sweep transaction batch; a fuller batch runs the sweep again at once.
SWEEP_BATCH = 200
_STEP_BACK_REASON = "stepped back from the series"
_REGULAR_REASON = "You took this series on: the same face each time"


def rule_of(series: Row) -> SeriesRule:
    """The stored series' rule."""
    return SeriesRule(
        first_starts_at=series["first_starts_at"],
        repeat=Repeat(series["repeat"]),
        time_zone=series["time_zone"],
        occurrences=series["occurrences"],
    )


async def make_due(
    repo: Repository,
    series: Row,
    neighbour: Row,
    now: datetime,
    horizon_end: datetime,
    *,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
) -> list[Row]:
    """Make the series' occurrences that start before ``horizon_end``; return their rows.

    Each is booked with the series' regular helper when they are free, and otherwise asked
    for (``HelpRequested``). Occurrences whose start has already passed (booking was down,
    say) are skipped, never made in the past. The caller holds the series' lock.
    """
    rule = rule_of(series)
    due = rule.due(series["made_until"], horizon_end)
    if not due:
        return []
    rows: list[Row] = [
        {
            "request_id": uuid.uuid4(),
            "series_id": series["series_id"],
            "occurrence": occurrence,
            "occurrences": series["occurrences"],
            "neighbour_id": series["neighbour_id"],
            "neighbourhood": neighbour["neighbourhood"],
            "cell": neighbour["cell"],
            "skill": series["skill"],
            "starts_at": start,
            "hours": series["hours"],
            "preferred_helper_id": series["preferred_helper_id"],
            "notes": series["notes"],
        }
        for occurrence, start in due
        if start > now
    ]
    made_until = due[-1][0]
    await repo.update_series(
        series["series_id"], made_until=made_until, next_starts_at=rule.next_start(made_until)
    )
    if not rows:
        return []
    await repo.add_requests(rows, [])
    languages = language_codes(neighbour["languages"])
    asked: list[Envelope[Any]] = []
    regular = series.get("regular_helper_id")  # a series just asked for has none yet
    for row in rows:
        row["status"] = RequestStatus.OPEN.value
        if regular is not None and await book_with_regular(repo, row, regular, now):
            row["status"] = RequestStatus.BOOKED.value
            continue
        asked.append(
            Envelope.wrap(
                help_requested(row, languages),
                producer=PRODUCER,
                correlation_id=correlation_id,
                causation_id=causation_id,
            )
        )
    if asked:
        await repo.publish(asked)
    return rows


async def book_with_regular(
    repo: Repository, request: Row, helper_id: uuid.UUID, now: datetime
) -> bool:
    """Book one occurrence with the series' regular helper if they are free for it.

    Free means: not suspended, still approved for the skill at the visit, the visit inside
    their weekly hours and dated exceptions, and none of its hours booked already (the
    ``helper_hours`` unique index decides that last one, whatever races alongside).
    """
    helper = await repo.person(helper_id)
    if helper is None or not await _may_come(repo, helper, request, dated=True):
        return False
    partner_service = helper["kind"] == PersonKind.PARTNER_SERVICE
    hours = booked_hours(request["starts_at"], request["hours"])
    offer: Row = {
        "offer_id": uuid.uuid4(),
        "request_id": request["request_id"],
        "helper_id": helper_id,
        "neighbour_id": request["neighbour_id"],
        "neighbourhood": request["neighbourhood"],
        "skill": request["skill"],
        "starts_at": request["starts_at"],
        "hours": request["hours"],
        "round": 0,
        "expires_at": now,
        "reasons": json.dumps([{"code": ReasonCode.REGULAR_HELPER.value, "text": _REGULAR_REASON}]),
    }
    booking: Row = {
        "booking_id": uuid.uuid4(),
        "request_id": request["request_id"],
        "offer_id": offer["offer_id"],
        "helper_id": helper_id,
        "neighbour_id": request["neighbour_id"],
        "neighbourhood": request["neighbourhood"],
        "skill": request["skill"],
        "starts_at": request["starts_at"],
        "hours": request["hours"],
        "status": BookingStatus.CONFIRMED.value,
    }
    event = BookingConfirmed(
        **visit_fields(booking),
        offer_id=offer["offer_id"],
        referred_by=await _referred_by(repo, request["neighbour_id"]),
    )
    return await repo.book_for_regular(
        offer, booking, [] if partner_service else hours, Envelope.wrap(event, producer=PRODUCER)
    )


async def _referred_by(repo: Repository, neighbour_id: uuid.UUID) -> uuid.UUID | None:
    """The partner who referred the neighbour, if a partner did (the ledger posts the visit
    under that partner's community)."""
    neighbour = await repo.person(neighbour_id)
    if neighbour is None or neighbour["kind"] != PersonKind.REFERRED:
        return None
    partner_id = neighbour["partner_id"]
    return partner_id if isinstance(partner_id, uuid.UUID) else None


async def _may_come(repo: Repository, helper: Row, request: Row, *, dated: bool) -> bool:
    """Whether the helper may come to the occurrence ``request``: an account not deleted nor
    suspended, still approved for its skill at its start, and the visit inside their weekly
    hours (and, with ``dated``, their dated exceptions: away that week, extra hours). A
    partner's service answers for its own people and hours."""
    if helper["kind"] == PersonKind.ERASED or helper["suspended"]:
        return False
    if helper["kind"] == PersonKind.PARTNER_SERVICE:
        return True
    standing = await repo.standing(helper["person_id"])
    until = standing["approved_skills"].get(request["skill"])
    if until is None or datetime.fromisoformat(until) <= request["starts_at"]:
        return False
    availability = await repo.availability(helper["person_id"])
    return availability is not None and offers_hours(
        [_rule(rule) for rule in availability["rules"]],
        [_exception(item) for item in availability["exceptions"]] if dated else [],
        helper["time_zone"],
        booked_hours(request["starts_at"], request["hours"]),
    )


async def _regular_gone(repo: Repository, regular_id: uuid.UUID, request: Row) -> bool:
    """Whether the series' regular can no longer come to its visits at all: deleted,
    suspended, no longer approved for the skill, or their weekly hours no longer cover the
    series' time. Being away one week, or booked elsewhere, is not that: they stay its
    regular."""
    regular = await repo.person(regular_id)
    return regular is None or not await _may_come(repo, regular, request, dated=False)


def _rule(row: Row) -> WeeklyRule:
    return WeeklyRule(Weekday(row["weekday"]), row["start_hour"], row["end_hour"])


def _exception(row: Row) -> DatedException:
    if row["kind"] == "away":
        return Away(date.fromisoformat(row["first_day"]), date.fromisoformat(row["last_day"]))
    return ExtraHours(date.fromisoformat(row["day"]), int(row["start"][:2]), int(row["end"][:2]))


async def take_on(
    repo: Repository, helper_id: uuid.UUID, request: Row, now: datetime
) -> dict[str, Any]:
    """The helper takes the series on from occurrence ``request`` (just booked) onwards.

    They become its regular; every later occurrence already made and still open is booked
    with them where they are free (the others stay offered to others). A regular who can no
    longer come to its visits at all (``_regular_gone``) gives way; one who can is kept, and
    the answer refused. The caller holds the lock of the accepted occurrence's request, taken
    before the series' (always in that order, as ``step_back`` and ``cancel_series`` do).
    """
    series_id, after = request["series_id"], request["occurrence"]
    series = await repo.series_rule(series_id, lock=True)
    if series is None:
        raise Conflict("this request does not repeat: accept it on its own")
    if series["status"] != "active":
        raise Conflict("this series has been cancelled")
    regular = series["regular_helper_id"]
    if regular not in {None, helper_id} and not await _regular_gone(repo, regular, request):
        raise Conflict("this series already has a regular helper")
    if helper_id in series["stepped_back"]:
        raise Conflict("you have stepped back from this series")
    series["regular_helper_id"] = helper_id
    await repo.update_series(series_id, regular_helper_id=helper_id)
    booked: list[uuid.UUID] = []
    not_booked: list[uuid.UUID] = []
    for row in await repo.series(series_id, lock=True):
        later = row["occurrence"] > after and row["starts_at"] > now
        if not later or row["status"] not in {RequestStatus.OPEN, RequestStatus.UNMATCHED}:
            continue
        if await book_with_regular(repo, row, helper_id, now):
            booked.append(row["request_id"])
        else:
            not_booked.append(row["request_id"])
    neighbour = await repo.person(series["neighbour_id"])
    series["neighbourhood"] = neighbour["neighbourhood"] if neighbour else None
    await repo.publish([Envelope.wrap(series_changed(series), producer=PRODUCER)])
    return {
        "series_id": series_id,
        "regular_helper_id": helper_id,
        "booked_request_ids": booked,
        "not_free_request_ids": not_booked,
    }


async def step_back(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    series_id: uuid.UUID,
    now: datetime,
    notice_s: int,
    *,
    reason: str | None = None,
) -> dict[str, Any]:
    """The neighbour or the series' regular helper ends their arrangement, with notice.

    The regular's bookings of occurrences that start within the notice stay; later ones are
    cancelled (not late: notice was given) and offered again, to anyone but that helper, and
    so are the occurrences made later. Neither side is blamed.
    """
    async with uow.begin() as repo:
        # The series' requests before the series itself: the order accepts lock them in.
        requests = {row["request_id"]: row for row in await repo.series(series_id, lock=True)}
        series = await repo.series_rule(series_id, lock=True)
        if series is None or person_id not in {
            series["neighbour_id"],
            series["regular_helper_id"],
        }:
            raise NotFound("no such series")
        regular = series["regular_helper_id"]
        if regular is None:
            raise Conflict("this series has no regular helper to step back from")
        side = Side.NEIGHBOUR if person_id == series["neighbour_id"] else Side.HELPER
        neighbour = await repo.person(series["neighbour_id"])
        if neighbour is None:
            raise NotFound("no such series")
        until = now + timedelta(seconds=notice_s)
        why = reason or _STEP_BACK_REASON
        released = await repo.series_bookings_of(series_id, regular, until)
        series["regular_helper_id"] = None
        series["stepped_back"] = [*(h for h in series["stepped_back"] if h != regular), regular]
        series["neighbourhood"] = neighbour["neighbourhood"]
        await repo.update_series(
            series_id, regular_helper_id=None, stepped_back=series["stepped_back"]
        )
        # Matching hears who stepped back before it is asked again for the rest.
        events: list[Envelope[Any]] = [Envelope.wrap(series_changed(series), producer=PRODUCER)]
        languages = language_codes(neighbour["languages"])
        for booking in released:
            await repo.update_booking(
                booking["booking_id"],
                status=BookingStatus.CANCELLED.value,
                cancelled_at=now,
                cancelled_by=side.value,
                cancel_reason=why,
                late_cancel=False,
            )
            await repo.free_helper_hours(booking["booking_id"])
            await repo.set_request_status(booking["request_id"], RequestStatus.OPEN)
            events.append(
                Envelope.wrap(
                    BookingCancelled(
                        **visit_fields(booking),
                        cancelled_by=side,
                        late=False,
                    ),
                    producer=PRODUCER,
                )
            )
            request = requests[booking["request_id"]]
            events.append(Envelope.wrap(help_requested(request, languages), producer=PRODUCER))
        await repo.publish(events)
        kept = await repo.series_bookings_of(series_id, regular, now)
    return {
        "series_id": series_id,
        "stepped_back": side,
        "regular_helper_id": None,
        "kept_booking_ids": [row["booking_id"] for row in kept],
        "offered_again_request_ids": [row["request_id"] for row in released],
    }


async def extend(uow: UnitOfWork, now: datetime, horizon_days: int) -> tuple[int, bool]:
    """Make every active series' occurrences that have come into range; return how many were
    made, and whether more series may be waiting (a full batch).

    Each series in its own transaction, under its lock: booking processes sweeping at once
    make each occurrence once.
    """
    horizon_end = now + timedelta(days=horizon_days)
    async with uow.read() as repo:
        due = await repo.series_to_make(horizon_end, SWEEP_BATCH)
    made = 0
    for series_id in due:
        async with uow.begin() as repo:
            series = await repo.series_rule(series_id, lock=True)
            if series is None or series["status"] != "active":
                continue
            if series["next_starts_at"] is None or series["next_starts_at"] >= horizon_end:
                continue  # another process made them meanwhile
            neighbour = await repo.person(series["neighbour_id"])
            if neighbour is None or neighbour["suspended"]:
                continue  # a suspended neighbour's series waits for reinstatement
            made += len(await make_due(repo, series, neighbour, now, horizon_end))
    return made, len(due) == SWEEP_BATCH
