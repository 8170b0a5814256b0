"""A signed-in person's notices as server-sent events, instead of polling their lists."""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from services.booking.adapters.notices import Notice
from services.booking.entrypoints.http.dependencies import Ctx, Me
from shared.sse import event_stream

router = APIRouter(prefix="/v1", tags=["notices"])

_EVENTS = {
    "offer.received": "an offer to you (read GET /v1/offers)",
    "request.offered": "an offer was made for your request (read GET /v1/requests)",
    "booking.cancelled": (
        "a visit of yours was called off by the other side or by Kith (read GET /v1/bookings);"
        " when its helper called it off, it is being offered again"
    ),
    "request.reopened": "a request of yours that was held is asked for again",
    "booking.kept": "a visit of yours that Kith called off goes ahead after all, as booked",
}


@router.get(
    "/me/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Notices."}},
    description=(
        "Server-sent events, one per change of yours, each naming what to read again: "
        + "; ".join(f"`{name}`: {what}" for name, what in _EVENTS.items())
        + ". Notices are hints, not a history: after reconnecting, read your lists."
    ),
)
async def my_events(ctx: Ctx, person_id: Me) -> StreamingResponse:
    """Notices for the signed-in person, as they happen."""
    notices = ctx.notices
    subscription = notices.subscribe(person_id)
    return event_stream(
        subscription.queue, _frame, on_close=lambda: notices.unsubscribe(subscription)
    )


def _frame(notice: Notice) -> str:
    return f"event: {notice.type}\ndata: {json.dumps(notice.data, separators=(',', ':'))}\n\n"
