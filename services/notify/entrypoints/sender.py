"""The sender: records reminders as they fall due and sends every due notice.

It wakes when the consumer recorded a notice, when the clock moves (``shared.clock.sleep``),
when a retry falls due, and at least every ``notify_poll_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from datetime import datetime, timedelta

import asyncpg
import structlog

from services.notify.adapters.metrics import LATE_SECONDS, NOTICES, SEND_SECONDS
from services.notify.adapters.postgres import PostgresStore
from services.notify.domain.notices import ReminderWindows
from services.notify.service_layer.handlers import (
    Delivery,
    Result,
    record_due_reminders,
    send_due,
)
from services.notify.service_layer.ports import ContactBook, Outlets, Templates
from shared import clock
from shared.contracts import utc_now

log = structlog.get_logger(__name__)


class Sender:
    """Runs until ``stop``: reminders, then every due notice, then a wait."""

    def __init__(
        self,
        store: PostgresStore,
        contacts: ContactBook,
        outlets: Outlets,
        templates: Templates,
        *,
        windows: ReminderWindows,
        delivery: Delivery,
        every_s: float,
        wake: asyncio.Event,
        senders: int = 1,
        batch: int = 1,
    ) -> None:
        self._store = store
        self._contacts = contacts
        self._outlets = outlets
        self._templates = templates
        self._windows = windows
        self._delivery = delivery
        self._every_s = every_s
        self._wake = wake
        self._senders = senders
        self._batch = batch
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """Record due reminders and send every due notice; return how many were handled."""
        handled, _ = await self._round()
        return handled

    async def _round(self) -> tuple[int, datetime | None]:
        """``run_once``, also saying when the next notice nobody holds falls due."""
        now = utc_now()
        await record_due_reminders(self._store, self._windows, now)
        upcoming = await self._store.next_due()
        if upcoming is None or upcoming > now:
            return 0, upcoming  # one look, rather than one per sender, when nothing is due
        # Several at once: SKIP LOCKED gives each its own notice.
        counts = await asyncio.gather(*(self._drain(now) for _ in range(self._senders)))
        return sum(counts), await self._store.next_due()

    async def _drain(self, now: datetime) -> int:
        handled = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            outcomes = await send_due(
                self._store,
                self._contacts,
                self._outlets,
                self._templates,
                self._delivery,
                now,
                self._batch,
            )
            if not outcomes:
                break
            handled += len(outcomes)
            took = time.monotonic() - started
            results = Counter(str(outcome.result) for outcome in outcomes)
            log.info("notices handled", took_ms=round(took * 1000, 1), **results)
            for outcome in outcomes:
                channel = str(outcome.notice.channel)
                NOTICES.labels(channel=channel, result=str(outcome.result)).inc()
                if outcome.result is Result.SENT:
                    SEND_SECONDS.labels(channel=channel).observe(took)
                    late = (utc_now() - outcome.notice.due_at).total_seconds()
                    LATE_SECONDS.labels(channel=channel).observe(max(late, 0.0))
        return handled

    async def run(self) -> None:
        """Send until ``stop``; a round that fails on the database is logged and retried."""
        while not self._stopping.is_set():
            self._wake.clear()
            seen = clock.offset()
            wait_s = self._every_s
            try:
                _, upcoming = await self._round()
                if upcoming is not None:
                    due_in = (upcoming - utc_now() + timedelta(milliseconds=5)).total_seconds()
                    wait_s = min(wait_s, max(due_in, 0.05))
            except (OSError, TimeoutError, asyncpg.PostgresError) as error:
                log.warning("notify round failed", error=repr(error))
            if clock.offset() != seen:
                continue
            await self._wait(wait_s, since=seen)

    async def _wait(self, seconds: float, *, since: timedelta) -> None:
        waits = [
            asyncio.ensure_future(self._stopping.wait()),
            asyncio.ensure_future(self._wake.wait()),
            # From ``since``: a move before the sleep's task begins must end it too.
            asyncio.ensure_future(clock.sleep(seconds, since=since)),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waits)

    def stop(self) -> None:
        """Return from ``run`` after the notice in hand."""
        self._stopping.set()
