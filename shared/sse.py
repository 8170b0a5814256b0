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
    nothing to send), until a ``None`` arrives; ``on_close`` runs however the stream ends.

    Items queued together go out in one write, and a frame identical to another in that
    write is sent once: each write wakes the client, and a repeated frame tells it nothing
    new (three offers made at once for one request are one "offered" for its neighbour).
    """

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
                items = [item]
                while items[-1] is not None and not queue.empty():
                    items.append(queue.get_nowait())
                texts = (frame(i) for i in items if i is not None)
                chunk = "".join(dict.fromkeys(t for t in texts if t is not None))
                if chunk:
                    yield chunk
                if items[-1] is None:
                    return  # the server is stopping, or this client fell behind
        finally:
            on_close()

    return StreamingResponse(
        lines(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
