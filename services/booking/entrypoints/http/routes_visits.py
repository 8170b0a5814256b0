"""Requests, offers and bookings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from services.booking.entrypoints.http.dependencies import Ctx, Me
from services.booking.entrypoints.http.idempotency import IdempotencyKey, idempotent
from services.booking.entrypoints.http.schemas import (
    CURSOR_PATTERN,
    AcceptBody,
    CancelBody,
    CheckInBody,
    NoShowBody,
    RequestBody,
    RescheduleBody,
    StepBackBody,
)
from services.booking.service_layer import bookings, offers, requests, series
from services.booking.service_layer.commands import AskForHelp, SubmitCheckIn
from shared.contracts import utc_now

router = APIRouter(prefix="/v1", tags=["visits"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Cursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN, max_length=18)]


@router.post("/requests", status_code=201, response_model=None)
async def ask_for_help(
    body: RequestBody, ctx: Ctx, person_id: Me, request: Request, key: IdempotencyKey = None
) -> Response:
    """Ask for help once, or every week or fortnight (same local time each time)."""
    command = AskForHelp(
        neighbour_id=person_id,
        skill=body.skill,
        starts_at=body.starts_at,
        hours=body.hours,
        repeat=body.repeat.every if body.repeat else None,
        occurrences=body.repeat.occurrences if body.repeat else 1,
        until=body.repeat.until if body.repeat else None,
        preferred_helper_id=body.preferred_helper_id,
        notes=body.notes,
    )
    return await idempotent(
        ctx,
        request,
        person_id,
        key,
        body,
        201,
        lambda: requests.ask_for_help(
            ctx.uow, command, utc_now(), ctx.settings.series_horizon_days
        ),
    )


@router.get("/requests")
async def my_requests(
    ctx: Ctx, person_id: Me, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    """My requests, a page at a time (pass ``next_cursor`` back as ``cursor``)."""
    return await requests.my_requests(ctx.uow, person_id, limit, cursor)


@router.get("/requests/{request_id}")
async def my_request(request_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """One of my requests, with how many offers were made for it."""
    return await requests.my_request(ctx.uow, person_id, request_id)


@router.post("/requests/{request_id}/cancel")
async def cancel_request(request_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """I no longer need this occurrence."""
    return await requests.cancel_request(ctx.uow, person_id, request_id)


@router.post("/series/{series_id}/cancel")
async def cancel_series(series_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """I no longer need any open occurrence of this repeating request, nor any later one."""
    return await requests.cancel_series(ctx.uow, person_id, series_id)


@router.post("/series/{series_id}/step-back")
async def step_back(
    series_id: uuid.UUID, ctx: Ctx, person_id: Me, body: StepBackBody | None = None
) -> dict[str, Any]:
    """The neighbour, or the series' regular helper, ends their arrangement with notice.

    Visits starting within the notice (``KITH_SERIES_STEP_BACK_NOTICE_S``) stay booked; the
    regular's later ones are cancelled, without blame, and offered to others (familiar faces
    first), as are the occurrences made later. Cancelling the series is
    ``POST /v1/series/{id}/cancel``.
    """
    return await series.step_back(
        ctx.uow,
        person_id,
        series_id,
        utc_now(),
        ctx.settings.series_step_back_notice_s,
        reason=body.reason if body is not None else None,
    )


@router.get("/offers")
async def inbox(ctx: Ctx, person_id: Me, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Offers made to me, open ones first."""
    return await offers.inbox(ctx.uow, person_id, utc_now(), limit, offset)


@router.post("/offers/{offer_id}/accept", status_code=201, response_model=None)
async def accept(
    offer_id: uuid.UUID,
    ctx: Ctx,
    person_id: Me,
    request: Request,
    body: AcceptBody | None = None,
    key: IdempotencyKey = None,
) -> Response:
    """Accept an offer: the first helper to accept books the visit (409 otherwise).

    With ``{"scope": "series"}`` you also take the rest of its series on: you become the
    neighbour's regular for it, its later occurrences already made are booked with you where
    you are free (``series.booked_request_ids``; the others stay offered to others), and
    later ones are booked with you as they come into range. Step back with
    ``POST /v1/series/{id}/step-back``.
    """
    whole_series = body is not None and body.scope == "series"
    return await idempotent(
        ctx,
        request,
        person_id,
        key,
        body,
        201,
        lambda: offers.accept(ctx.uow, person_id, offer_id, utc_now(), whole_series=whole_series),
    )


@router.post("/offers/{offer_id}/decline")
async def decline(offer_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Say no to an offer."""
    return await offers.decline(ctx.uow, person_id, offer_id, utc_now())


@router.get("/bookings")
async def my_bookings(
    ctx: Ctx,
    person_id: Me,
    when: Literal["upcoming", "past"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """My bookings, as helper or neighbour."""
    return await bookings.my_bookings(ctx.uow, person_id, when, utc_now(), limit, offset)


@router.get("/bookings/{booking_id}")
async def my_booking(booking_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """One booking; its helper sees the neighbour's address shortly before the visit."""
    return await bookings.my_booking(ctx.uow, person_id, booking_id, utc_now(), ctx.settings)


@router.post("/bookings/{booking_id}/check-in")
async def check_in(booking_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """The helper has arrived: accepted from `KITH_CHECK_IN_OPENS_BEFORE_S` before the visit's
    start until its end (409 outside it, saying when it opens)."""
    return await bookings.check_in(
        ctx.uow, person_id, booking_id, utc_now(), ctx.settings.check_in_opens_before_s
    )


@router.post("/bookings/{booking_id}/check-out")
async def check_out(booking_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """The helper has left: the visit is completed (only after checking in). A visit nobody
    checks out of is completed `KITH_VISIT_CLOSE_AFTER_S` after its end."""
    return await bookings.check_out(ctx.uow, person_id, booking_id, utc_now())


@router.post("/bookings/{booking_id}/cancel")
async def cancel_booking(
    booking_id: uuid.UUID, body: CancelBody, ctx: Ctx, person_id: Me
) -> dict[str, Any]:
    """Call a visit off (late when inside the notice window)."""
    return await bookings.cancel(
        ctx.uow, person_id, booking_id, body.reason, utc_now(), ctx.settings
    )


@router.post("/bookings/{booking_id}/check-ins", status_code=201, response_model=None)
async def submit_check_in(
    booking_id: uuid.UUID,
    body: CheckInBody,
    ctx: Ctx,
    person_id: Me,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """My private answers about a completed visit, once."""
    command = SubmitCheckIn(
        booking_id=booking_id,
        author_id=person_id,
        see_again=body.see_again,
        as_agreed=body.as_agreed,
        note=body.note,
    )
    return await idempotent(
        ctx, request, person_id, key, body, 201, lambda: bookings.submit_check_in(ctx.uow, command)
    )


@router.post("/bookings/{booking_id}/reschedule", status_code=201, response_model=None)
async def propose_reschedule(
    booking_id: uuid.UUID,
    body: RescheduleBody,
    ctx: Ctx,
    person_id: Me,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """Propose a new time; it takes effect when the other side confirms."""
    return await idempotent(
        ctx,
        request,
        person_id,
        key,
        body,
        201,
        lambda: bookings.propose_reschedule(
            ctx.uow, person_id, booking_id, body.starts_at, body.hours, utc_now()
        ),
    )


@router.post("/bookings/{booking_id}/reschedule/confirm")
async def confirm_reschedule(booking_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Confirm the other side's proposed time: the visit moves (409 if the helper is busy)."""
    return await bookings.confirm_reschedule(ctx.uow, person_id, booking_id, utc_now())


@router.post("/bookings/{booking_id}/reschedule/decline")
async def decline_reschedule(booking_id: uuid.UUID, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Drop a proposed time (either side); the visit stays as booked."""
    return await bookings.decline_reschedule(ctx.uow, person_id, booking_id)


@router.post("/bookings/{booking_id}/no-show")
async def report_no_show(
    booking_id: uuid.UUID, body: NoShowBody, ctx: Ctx, person_id: Me
) -> dict[str, Any]:
    """The other side was not there. A neighbour not answering the door asks operators for a
    welfare check instead of counting against them."""
    return await bookings.report_no_show(ctx.uow, person_id, booking_id, body.note, utc_now())
