"""Work a service repeats on a timer, such as a sweep, until the service stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import structlog

from shared import clock

log = structlog.get_logger(__name__)


class Periodic:
    """Runs ``action`` at once, then every ``every_s`` seconds until ``stop``.

    ``action`` may return a shorter wait before its next run (in seconds), or ``None`` for
    ``every_s``. A run that fails on the database or the network is logged and tried again at
    the next: housekeeping must never take its service down.
    """

    def __init__(
        self, name: str, action: Callable[[], Awaitable[float | None]], *, every_s: float
    ) -> None:
        self._name = name
        self._action = action
        self._every_s = every_s
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Run until ``stop``, finishing the run in hand."""
        while not self._stopping.is_set():
            wait_s = self._every_s
            # A clock moved while the action ran is one the action may not have seen (it took
            # its present before), and the wait below would miss it (it watches for moves
            # from when it starts): run again at once instead.
            seen = clock.offset()
            try:
                sooner = await self._action()
                if sooner is not None:
                    wait_s = min(wait_s, sooner)
            except (OSError, TimeoutError, asyncpg.PostgresError) as error:
                log.warning(f"{self._name} failed", error=repr(error))
            if clock.offset() != seen:
                continue
            await self._wait(wait_s, since=seen)

    async def _wait(self, seconds: float, *, since: timedelta) -> None:
        # Clock time, not real time: a run due in a week is due at once when the clock moves
        # a week on, so rules over months can be tried in minutes.
        stopping = asyncio.ensure_future(self._stopping.wait())
        # From ``since``: the sleep's task begins a turn later, and a move in that turn
        # must end it too.
        slept = asyncio.ensure_future(clock.sleep(seconds, since=since))
        try:
            await asyncio.wait({stopping, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stopping, slept):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(stopping, slept)

    def stop(self) -> None:
        """Return from ``run`` after the run in hand."""
        self._stopping.set()
