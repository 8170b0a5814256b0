"""Asking for help, reading one's requests, cancelling them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.booking.domain.errors import Conflict, Forbidden, Invalid, NotFound
from services.booking.domain.languages import language_codes
from services.booking.domain.series import SeriesRule, count_until
from services.booking.domain.visits import RequestStatus, is_on_the_hour
from services.booking.service_layer.commands import AskForHelp
from services.booking.service_layer.pages import decode_cursor, page
from services.booking.service_layer.ports import UnitOfWork
from services.booking.service_layer.records import Row
from services.booking.service_layer.series_events import series_changed
from shared.contracts import Envelope
from shared.contracts.requests import HelpRequestCancelled, HelpRequested

PRODUCER = "booking"
#: How far ahead a series' occurrences are made when no setting says otherwise
#: (``Settings.series_horizon_days``).
HORIZON_DAYS = 42


async def ask_for_help(
    uow: UnitOfWork, command: AskForHelp, now: datetime, horizon_days: int = HORIZON_DAYS
) -> dict[str, Any]:
    """Record the request and publish one ``HelpRequested`` per occurrence made.

    A one-off request is one occurrence. A weekly or fortnightly one is a series: its
    occurrences within ``horizon_days`` are made now, and later ones by ``series.extend`` as
    time passes, until its end (a count or a last day) or for as long as it runs.
    """
    if not is_on_the_hour(command.starts_at):
        raise Invalid("starts_at", "must be on the hour (minutes and seconds zero)")
    if command.starts_at <= now:
        raise Invalid("starts_at", "must be in the future")
    if command.preferred_helper_id == command.neighbour_id:
        raise Invalid("preferred_helper_id", "cannot be yourself")
    if command.repeat is not None:
        return await _ask_for_series(uow, command, now, horizon_days)
    correlation = command.correlation_id or uuid.uuid4()
    # Reads that need no lock, then one statement that is atomic on its own: no transaction.
    async with uow.read() as repo:
        neighbour = await repo.person(command.neighbour_id)
        if neighbour is None:
            raise NotFound("no such person")
        if neighbour["suspended"]:
            raise Forbidden("your account is paused while a concern is looked into")
        row: Row = {
            "request_id": uuid.uuid4(),
            "series_id": uuid.uuid4(),
            "occurrence": 1,
            "occurrences": 1,
            "neighbour_id": command.neighbour_id,
            "neighbourhood": neighbour["neighbourhood"],
            "cell": neighbour["cell"],
            "skill": str(command.skill),
            "starts_at": command.starts_at,
            "hours": command.hours,
            "preferred_helper_id": command.preferred_helper_id,
            "notes": command.notes,
        }
        event = Envelope.wrap(
            help_requested(row, language_codes(neighbour["languages"])),
            producer=PRODUCER,
            correlation_id=correlation,
            causation_id=command.causation_id,
        )
        await repo.add_requests([row], [event])
    return {
        "series_id": row["series_id"],
        "repeat": None,
        "occurrences_planned": 1,
        "occurrences": [
            {"request_id": row["request_id"], "starts_at": row["starts_at"], "status": "open"}
        ],
    }


async def _ask_for_series(
    uow: UnitOfWork, command: AskForHelp, now: datetime, horizon_days: int
) -> dict[str, Any]:
    # Imported here: series builds its events with this module's helpers.
    from services.booking.service_layer import series as series_layer

    assert command.repeat is not None
    correlation = command.correlation_id or uuid.uuid4()
    async with uow.begin() as repo:
        neighbour = await repo.person(command.neighbour_id)
        if neighbour is None:
            raise NotFound("no such person")
        if neighbour["suspended"]:
            raise Forbidden("your account is paused while a concern is looked into")
        # Repeats keep the neighbour's wall-clock time across daylight-saving changes.
        rule = SeriesRule(command.starts_at, command.repeat, neighbour["time_zone"])
        count = command.occurrences
        if command.until is not None:
            zone = ZoneInfo(neighbour["time_zone"])
            after_last_day = datetime.combine(command.until + timedelta(days=1), time(), zone)
            count = count_until(rule, after_last_day)
            if count == 0:
                raise Invalid("repeat.until", "is before the first occurrence")
        series: Row = {
            "series_id": uuid.uuid4(),
            "neighbour_id": command.neighbour_id,
            "repeat": str(command.repeat),
            "first_starts_at": command.starts_at,
            "time_zone": neighbour["time_zone"],
            "occurrences": count,
            "skill": str(command.skill),
            "hours": command.hours,
            "preferred_helper_id": command.preferred_helper_id,
            "notes": command.notes,
            "made_until": 0,
            "next_starts_at": command.starts_at,
        }
        await repo.add_series(series)
        rows = await series_layer.make_due(
            repo,
            series,
            neighbour,
            now,
            # The series' first weeks are made at once, however far ahead it starts.
            max(now, command.starts_at) + timedelta(days=horizon_days),
            correlation_id=correlation,
            causation_id=command.causation_id,
        )
    return {
        "series_id": series["series_id"],
        "repeat": series["repeat"],
        "occurrences_planned": count,
        "occurrences": [
            {
                "request_id": row["request_id"],
                "starts_at": row["starts_at"],
                "status": row["status"],
            }
            for row in rows
        ],
    }


def help_requested(row: Row, languages: Sequence[str] = ()) -> HelpRequested:
    """The event for one stored occurrence; ``languages`` are the neighbour's codes."""
    return HelpRequested(
        request_id=row["request_id"],
        series_id=row["series_id"],
        occurrence=row["occurrence"],
        occurrences=row["occurrences"],
        neighbour_id=row["neighbour_id"],
        neighbourhood=row["neighbourhood"],
        cell=row["cell"],
        skill=row["skill"],
        starts_at=row["starts_at"],
        hours=row["hours"],
        preferred_helper_id=row["preferred_helper_id"],
        languages=list(languages),
    )


def request_view(row: Row) -> dict[str, Any]:
    """What the neighbour sees of one occurrence."""
    return {
        "request_id": row["request_id"],
        "series_id": row["series_id"],
        "occurrence": row["occurrence"],
        "occurrences": row["occurrences"],
        "skill": row["skill"],
        "starts_at": row["starts_at"],
        "hours": row["hours"],
        "status": row["status"],
        "preferred_helper_id": row["preferred_helper_id"],
        "notes": row["notes"],
        "offers_made": row.get("offers_made", 0),
        "seq": row["seq"],
    }


async def my_requests(
    uow: UnitOfWork, neighbour_id: uuid.UUID, limit: int, cursor: str | None
) -> dict[str, Any]:
    """A page of the neighbour's occurrences, oldest first."""
    async with uow.read() as repo:
        rows = await repo.requests_of(neighbour_id, decode_cursor(cursor), limit + 1)
    return page([request_view(row) for row in rows], limit)


async def my_request(uow: UnitOfWork, neighbour_id: uuid.UUID, request_id: uuid.UUID) -> Row:
    """One of the neighbour's occurrences; someone else's is not found."""
    async with uow.read() as repo:
        row = await repo.request(request_id)
    if row is None or row["neighbour_id"] != neighbour_id:
        raise NotFound("no such request")
    view = request_view(row)
    view.pop("seq")
    return view


async def cancel_request(
    uow: UnitOfWork, neighbour_id: uuid.UUID, request_id: uuid.UUID
) -> dict[str, Any]:
    """Withdraw an open occurrence; its open offers lapse."""
    async with uow.begin() as repo:
        row = await repo.request(request_id, lock=True)
        if row is None or row["neighbour_id"] != neighbour_id:
            raise NotFound("no such request")
        if row["status"] == RequestStatus.CANCELLED:
            return {"request_id": request_id, "status": row["status"]}
        if row["status"] == RequestStatus.BOOKED:
            raise Conflict("this request is booked: cancel the booking instead")
        await repo.set_request_status(request_id, RequestStatus.CANCELLED)
        await repo.withdraw_open_offers(request_id)
        event = HelpRequestCancelled(request_id=request_id, neighbourhood=row["neighbourhood"])
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return {"request_id": request_id, "status": RequestStatus.CANCELLED}


async def cancel_series(
    uow: UnitOfWork, neighbour_id: uuid.UUID, series_id: uuid.UUID
) -> dict[str, Any]:
    """Withdraw every still-open occurrence of a series and make no more; booked ones are
    left to cancel."""
    async with uow.begin() as repo:
        rows = await repo.series(series_id, lock=True)
        if not rows or rows[0]["neighbour_id"] != neighbour_id:
            raise NotFound("no such series")
        events: list[Envelope[Any]] = []
        for row in rows:
            if row["status"] in {RequestStatus.OPEN, RequestStatus.UNMATCHED}:
                await repo.set_request_status(row["request_id"], RequestStatus.CANCELLED)
                await repo.withdraw_open_offers(row["request_id"])
                row["status"] = RequestStatus.CANCELLED.value
                event = HelpRequestCancelled(
                    request_id=row["request_id"], neighbourhood=row["neighbourhood"]
                )
                events.append(Envelope.wrap(event, producer=PRODUCER))
        # No more occurrences are made, and matching forgets its regular.
        series = await repo.series_rule(series_id, lock=True)
        if series is not None and series["status"] == "active":
            await repo.update_series(series_id, status="ended", next_starts_at=None)
            ended = {**series, "status": "ended", "neighbourhood": rows[0]["neighbourhood"]}
            events.append(Envelope.wrap(series_changed(ended), producer=PRODUCER))
        if events:
            await repo.publish(events)
    return {
        "series_id": series_id,
        "occurrences": [
            {
                "request_id": row["request_id"],
                "starts_at": row["starts_at"],
                "status": row["status"],
            }
            for row in rows
        ],
    }


async def waiting_list(
    uow: UnitOfWork, status: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Operators: requests in one status, oldest first, with the neighbour's name."""
    async with uow.read() as repo:
        rows = await repo.requests_with_status(status, decode_cursor(cursor), limit + 1)
        names = await repo.display_names([row["neighbour_id"] for row in rows])
    items = []
    for row in rows:
        view = request_view(row)
        view["neighbour_id"] = row["neighbour_id"]
        view["neighbour_name"] = names.get(row["neighbour_id"])
        view["neighbourhood"] = row["neighbourhood"]
        view["waiting_since"] = row["created_at"]
        items.append(view)
    return page(items, limit)
