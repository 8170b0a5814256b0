"""A consumer of raw records, for the inbox: partners' messages need their headers (the
key), and an inbox message is not a Kith event until the gateway says so, which the shared
``EventConsumer`` (decode first, then handle) cannot express."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from aiokafka.structs import ConsumerRecord

from shared.contracts.topics import DEAD_LETTERS
from shared.messaging import Publisher
from shared.messaging.consumer import group_member
from shared.messaging.dead_letters import dead_letter_headers
from shared.messaging.fetch_wait import FetchWait
from shared.settings import Settings

log = structlog.get_logger(__name__)

#: Handles one record; returns a reason to dead-letter it, or None when it was taken.
RecordHandler = Callable[["ConsumerRecord[bytes, bytes]"], Awaitable[str | None]]


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    """The last value of a header, as text."""
    value = None
    for key, raw in record.headers or ():
        if key == name:
            value = raw.decode(errors="replace")
    return value


class RawConsumer:
    """One group member over one topic: handle, dead-letter what is refused, then commit.

    Like ``EventConsumer``, it commits only after each batch is handled (a crash re-delivers),
    retries a failing handler with backoff, and dead-letters after ``attempts``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        group_id: str,
        topic: str,
        handler: RecordHandler,
        dead_letters: Publisher,
        secret_headers: frozenset[str] = frozenset(),
        attempts: int = 5,
    ) -> None:
        self._name = name
        self._secret_headers = secret_headers
        self._handler = handler
        self._dead_letters = dead_letters
        self._attempts = attempts
        self._consumer = group_member(settings, topic, group_id=group_id, name=name)
        self._wait = FetchWait(
            busy_ms=settings.fetch_max_wait_ms, idle_ms=settings.background_fetch_max_wait_ms
        )
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once the group has assigned this member its partitions."""

    async def start(self) -> None:
        """Join the group."""
        await self._consumer.start()

    async def seek_to_end(self) -> None:
        """Skip everything already on the assigned partitions."""
        await self._consumer.seek_to_end()

    async def stop(self) -> None:
        """Leave the group."""
        self._stopping.set()
        await self._consumer.stop()

    async def run(self) -> None:
        """Consume until ``stop``."""
        while not self._stopping.is_set():
            try:
                batches = await self._consumer.getmany(timeout_ms=200, max_records=200)
            except Exception:
                if self._stopping.is_set():
                    return
                raise
            if self._consumer.assignment():
                self.ready.set()
            self._wait.after_read(self._consumer, sum(map(len, batches.values())))
            for partition, records in batches.items():
                for record in records:
                    await self._process(record)
                if records:
                    await self._consumer.commit({partition: records[-1].offset + 1})

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                reason = await self._handler(record)
                break
            except Exception as error:
                log.warning(
                    "inbox handler failed",
                    partition=record.partition,
                    offset=record.offset,
                    attempt=attempt,
                    error=repr(error),
                )
                if attempt == self._attempts:
                    reason = f"handler failed {attempt} times: {error!r}"
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=0.05 * 2**attempt)
                if self._stopping.is_set():
                    raise
        if reason is not None:
            log.info("partner message refused", offset=record.offset, reason=reason)
            await self._dead_letter(record, reason)

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        # Secret headers (a partner's key) must not reach the dead-letter topic, which
        # operators and their tools read.
        kept = [(k, v) for k, v in record.headers or () if k not in self._secret_headers]
        headers = dead_letter_headers(
            kept,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
            consumer=self._name,
        )
        await self._dead_letters.publish_raw(
            DEAD_LETTERS.name, value=record.value, key=record.key, headers=headers
        )
