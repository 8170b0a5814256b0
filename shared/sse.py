"""Server-sent event streams fed by a queue: booking's notices and the operators' console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TypeVar

from fastapi.responses import StreamingResponse

T = TypeVar("T")

#: A comment line this often keeps proxies from closing a quiet stream.
KEEP_ALIVE_S = 15.0
#: How long a browser waits before it reconnects a dropped stream.
_RETRY = "retry: 2000\n\n"


def event_stream(
    queue: asyncio.Queue[T | None],
    frame: Callable[[T], str | None],
    *,
    first: Iterable[str] = (),
    on_close: Callable[[], None],
    keep_alive_s: float = KEEP_ALIVE_S,
) -> StreamingResponse:
    """A response streaming ``first``, then each queued item as ``frame`` writes it (``None``:
    nothing to send), until a ``None`` arrives; ``on_close`` runs however the stream ends."""

    async def lines() -> AsyncIterator[str]:
        try:
            yield _RETRY
            for line in first:
                yield line
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), keep_alive_s)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:
                    return  # the server is stopping, or this client fell behind
                text = frame(item)
                if text is not None:
                    yield text
        finally:
            on_close()

    return StreamingResponse(
        lines(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
