"""LISTEN on a connection of one's own, for as long as a process runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

import asyncpg
import structlog

log = structlog.get_logger(__name__)

#: Seconds between attempts to listen again after the connection was lost.
RETRY_S = 1.0


class ChannelListener:
    """Hands each NOTIFY on its channels to that channel's handler until ``stop``.

    A lost connection is replaced and its channels listened to again. Whatever was notified
    in between is never heard, so ``on_listen`` runs each time listening (re)starts: a
    handler that keeps a cache of what the notices would have changed forgets it there.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, Callable[[str], None]],
        *,
        on_listen: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self._handlers = dict(handlers)
        self._on_listen = on_listen
        self._stopping = asyncio.Event()
        self.listening = asyncio.Event()
        """Set while notifications are being received."""

    async def run(self) -> None:
        """Listen until ``stop``, listening again after a loss."""
        while not self._stopping.is_set():
            try:
                async with self._pool.acquire() as conn:
                    lost = asyncio.Event()
                    on_lost = _setter(lost)
                    conn.add_termination_listener(on_lost)
                    for channel in self._handlers:
                        await conn.add_listener(channel, self._on_notify)
                    if self._on_listen is not None:
                        self._on_listen()
                    self.listening.set()
                    try:
                        await _first(self._stopping, lost)
                    finally:
                        self.listening.clear()
                        # A lost connection refuses even these (it left the pool's hands).
                        with contextlib.suppress(Exception):
                            conn.remove_termination_listener(on_lost)
                            for channel in self._handlers:
                                await conn.remove_listener(channel, self._on_notify)
                if lost.is_set():
                    raise ConnectionError("the listening connection was closed")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("listening again", channels=list(self._handlers), error=repr(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=RETRY_S)

    def stop(self) -> None:
        """Stop listening; ``run`` returns."""
        self._stopping.set()

    def _on_notify(self, _conn: object, _pid: int, channel: str, payload: object) -> None:
        self._handlers[channel](str(payload))


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    def set_it(_conn: object) -> None:
        event.set()

    return set_it


async def _first(*events: asyncio.Event) -> None:
    """Return once any of ``events`` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
