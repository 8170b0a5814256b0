"""Every stream, private ones included, read from the beginning into the console.

Reading from the beginning rebuilds the panels (the topics are the source of truth, so the
console keeps nothing of its own); the bounded history then holds the latest events.
"""

from __future__ import annotations

import asyncio

import structlog

from services.ops.service_layer.console import Console
from shared.contracts.topics import ALL_TOPICS
from shared.messaging.fetch_wait import IDLE_WAKE_MS
from shared.messaging.reader import StreamReader
from shared.settings import Settings

log = structlog.get_logger(__name__)


class Feed:
    """Reads every Kith topic without a consumer group and hands each message to the console."""

    def __init__(self, settings: Settings, console: Console) -> None:
        self._console = console
        self._reader = StreamReader(
            settings,
            [topic.name for topic in ALL_TOPICS],
            from_beginning=True,
            # Every partition of every topic, for people watching: a quarter of a second
            # is soon enough, and an idle fetch this wide costs the broker each time.
            fetch_max_wait_ms=settings.background_fetch_max_wait_ms,
            idle_fetch_max_wait_ms=settings.background_idle_fetch_max_wait_ms,
            client_id="kith-ops",
        )
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once every partition is assigned to the reader."""

    async def start(self) -> None:
        """Connect and take every partition."""
        await self._reader.start()
        if self._reader.missing:
            log.warning(
                "topics missing; the console will not show them", topics=self._reader.missing
            )
        self.ready.set()

    async def run(self) -> None:
        """Feed the console until ``stop``."""
        ends = await self._reader.end_offsets()
        while not self._stopping.is_set():
            # Looked at before each read too: with nothing left to read, a read waits for
            # records up to ``IDLE_WAKE_MS``.
            if not self._console.caught_up and await self._reader.reached(ends):
                self._console.caught_up = True
                log.info("ops caught up with the streams", events=self._console.seen)
            try:
                batch = await self._reader.read(timeout_ms=IDLE_WAKE_MS)
            except Exception:
                if self._stopping.is_set():
                    return
                raise
            for seen in batch:
                self._console.take(seen)

    async def stop(self) -> None:
        """Stop reading and disconnect."""
        self._stopping.set()
        await self._reader.stop()
