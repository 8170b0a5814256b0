"""A signed-in person's notices as server-sent events, instead of polling their lists."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from services.booking.adapters.notices import Notice
from services.booking.entrypoints.http.dependencies import Ctx, Me

router = APIRouter(prefix="/v1", tags=["notices"])

#: A comment line this often keeps proxies from closing a quiet stream.
KEEP_ALIVE_S = 15.0
_EVENTS = {
    "offer.received": "an offer to you (read GET /v1/offers)",
    "request.offered": "an offer was made for your request (read GET /v1/requests)",
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

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    notice = await asyncio.wait_for(subscription.queue.get(), KEEP_ALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if notice is None:
                    return  # booking is stopping, or this client fell behind
                yield _frame(notice)
        finally:
            notices.unsubscribe(subscription)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _frame(notice: Notice) -> str:
    return f"event: {notice.type}\ndata: {json.dumps(notice.data, separators=(',', ':'))}\n\n"
