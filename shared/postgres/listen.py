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
        self._stopping = False
        self._woken = asyncio.Event()
        """Set by ``stop`` and by the listening connection closing."""
        self.listening = asyncio.Event()
        """Set while notifications are being received."""

    async def run(self) -> None:
        """Listen until ``stop``, listening again after a loss."""
        while not self._stopping:
            self._woken.clear()
            try:
                async with self._pool.acquire() as conn:
                    conn.add_termination_listener(self._on_closed)
                    try:
                        for channel in self._handlers:
                            await conn.add_listener(channel, self._on_notify)
                    except asyncpg.InternalClientError:
                        # Left mid-operation when the server went away: of no use to anyone,
                        # and the pool waits for ever to have it back whole.
                        conn.terminate()
                        raise
                    if self._on_listen is not None:
                        self._on_listen()
                    self.listening.set()
                    try:
                        await self._woken.wait()
                    finally:
                        self.listening.clear()
                        # A lost connection refuses even these (it left the pool's hands).
                        with contextlib.suppress(Exception):
                            conn.remove_termination_listener(self._on_closed)
                            for channel in self._handlers:
                                await conn.remove_listener(channel, self._on_notify)
                if not self._stopping:
                    raise ConnectionError("the listening connection was closed")
            except (
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
            ) as error:
                log.warning("listening again", channels=list(self._handlers), error=repr(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), timeout=RETRY_S)

    def stop(self) -> None:
        """Stop listening; ``run`` returns."""
        self._stopping = True
        self._woken.set()

    def _on_closed(self, _conn: object) -> None:
        self._woken.set()

    def _on_notify(self, _conn: object, _pid: int, channel: str, payload: object) -> None:
        self._handlers[channel](str(payload))
