"""Reading streams as an observer: every partition, no consumer group, nothing committed.

Operators' tools (the console, ``kith tail``) must see every message, including those that
cannot be decoded, and must never take partitions away from a service's consumer group or
send anything to the dead-letter topic themselves. So this reader assigns itself every
partition of its topics, starts at the beginning or the end, and turns each message into an
``Observed`` whatever it holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from shared import metrics
from shared.contracts import Envelope, Payload, UndecodableEvent, decode
from shared.contracts.topics import DEAD_LETTERS
from shared.messaging.connection import Kafka, KafkaConnection
from shared.messaging.dead_letters import read_dead_letter
from shared.messaging.fetch_wait import FETCH_ROUTINE_WAKE_MS, FetchWait
from shared.messaging.offsets import end_offsets
from shared.observed import Observed, Refusal

#: How often the consumer-lag gauge is refreshed.
_LAG_EVERY_S = 1.0


class StreamReader:
    """Reads ``topics`` from every partition, without a group.

    Args:
        kafka: The broker: settings, a connection, or a plaintext address.
        topics: Topic names; those the broker lacks are listed in ``missing`` after ``start``.
        from_beginning: Start at the oldest message kept, else at the end (new messages only).
        fetch_max_wait_ms: How long an idle fetch waits (keep it short on the embedded broker).
        idle_fetch_max_wait_ms: The wait once nothing has been read for a while
            (``FetchWait``), for a reader that runs for good; None keeps the one wait.
        client_id: How the broker names this client.
        service: The ``service`` label of its metrics (the process's by default).
        max_partition_fetch_bytes: The most one fetch takes from one partition.
    """

    def __init__(
        self,
        kafka: Kafka,
        topics: Sequence[str],
        *,
        from_beginning: bool,
        fetch_max_wait_ms: int = 10,
        idle_fetch_max_wait_ms: int | None = None,
        client_id: str = "kith-reader",
        service: str | None = None,
        max_partition_fetch_bytes: int = 1024 * 1024,
    ) -> None:
        self._kafka = KafkaConnection.of(kafka)
        self._topics = list(dict.fromkeys(topics))
        self._from_beginning = from_beginning
        self._service = service or metrics.service_name()
        self._consumer = AIOKafkaConsumer(
            **self._kafka.aiokafka(),
            group_id=None,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
            fetch_max_wait_ms=fetch_max_wait_ms,
            consumer_timeout_ms=FETCH_ROUTINE_WAKE_MS,
            max_partition_fetch_bytes=max_partition_fetch_bytes,
        )
        self._wait = (
            None
            if idle_fetch_max_wait_ms is None
            else FetchWait(busy_ms=fetch_max_wait_ms, idle_ms=idle_fetch_max_wait_ms)
        )
        self._lag_at = 0.0
        self.partitions: list[TopicPartition] = []
        """Every partition read, once started."""
        self.missing: list[str] = []
        """Topics asked for that the broker does not have."""

    async def start(self) -> None:
        """Connect, find every partition of the topics, and take them all."""
        try:
            await self._consumer.start()
        except BaseException:
            await self._consumer.stop()  # it holds sockets and tasks even when start fails
            raise
        known = await self._consumer.topics()  # also loads the metadata for partitions_for_topic
        for name in self._topics:
            numbers = self._consumer.partitions_for_topic(name) if name in known else None
            if not numbers:
                self.missing.append(name)
                continue
            self.partitions.extend(TopicPartition(name, n) for n in sorted(numbers))
        if not self.partitions:
            return
        self._consumer.assign(self.partitions)
        if self._from_beginning:
            await self._consumer.seek_to_beginning(*self.partitions)
        else:
            for partition, end in (await self.end_offsets()).items():
                self._consumer.seek(partition, end)

    async def end_offsets(self) -> dict[TopicPartition, int]:
        """The offset the next message on each partition will get, now."""
        if not self.partitions:
            return {}
        return await end_offsets(self._kafka, self.partitions)

    async def reached(self, offsets: dict[TopicPartition, int]) -> bool:
        """Whether this reader has read up to ``offsets`` (say, the ends when it started)."""
        for partition, offset in offsets.items():
            if await self._consumer.position(partition) < offset:
                return False
        return True

    async def read(self, timeout_ms: int = 200) -> list[Observed]:
        """The next messages, in order within each partition; empty after ``timeout_ms``."""
        seen = [observe(record) for record in await self.read_records(timeout_ms)]
        for item in seen:
            metrics.EVENTS_CONSUMED.labels(self._service, item.topic, item.type).inc()
        return seen

    async def read_records(
        self, timeout_ms: int = 200, max_records: int = 500
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """The next messages as the broker holds them (headers and all), in order within each
        partition; empty after ``timeout_ms``."""
        if not self.partitions:  # nothing to read: wait as a fetch would, never spin
            await asyncio.sleep(timeout_ms / 1000)
            return []
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        await self._record_lag()
        records = [record for records in batches.values() for record in records]
        if self._wait is not None:
            self._wait.after_read(self._consumer, len(records))
        return records

    async def read_to(
        self, offsets: dict[TopicPartition, int]
    ) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
        """Every message from here up to ``offsets`` (say, the ends now), in large reads."""
        while not await self.reached(offsets):
            for record in await self.read_records(timeout_ms=500, max_records=5000):
                yield record

    async def stop(self) -> None:
        """Disconnect."""
        await self._consumer.stop()

    async def _record_lag(self) -> None:
        now = time.monotonic()
        if now - self._lag_at < _LAG_EVERY_S:
            return
        self._lag_at = now
        for partition in self.partitions:
            highwater = self._consumer.highwater(partition)
            if highwater is not None:
                position = await self._consumer.position(partition)
                metrics.CONSUMER_LAG.labels(
                    self._service, partition.topic, str(partition.partition)
                ).set(max(0, highwater - position))


async def read_to_end(kafka: Kafka, topics: Sequence[str]) -> list[ConsumerRecord[bytes, bytes]]:
    """Every message now on ``topics`` (those the broker has), in order within each partition.

    For observers that check what a topic holds (``kith faults``, tests): no group, nothing
    committed; large fetches, as a whole topic is read at once.
    """
    reader = StreamReader(
        kafka,
        topics,
        from_beginning=True,
        client_id="kith-reader-to-end",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await reader.start()
    try:
        return [record async for record in reader.read_to(await reader.end_offsets())]
    finally:
        await reader.stop()


def observe(record: ConsumerRecord[bytes, bytes]) -> Observed:
    """What one message holds: an event, a dead letter, or bytes that say why they are not."""
    timestamp = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    refusal = None
    if record.topic == DEAD_LETTERS.name:
        letter = read_dead_letter(record)
        refusal = Refusal(
            letter.reason, letter.topic, letter.partition, letter.offset, letter.consumer
        )
    envelope: Envelope[Payload] | None = None
    problem = None
    try:
        envelope = decode(record.value)
    except UndecodableEvent as error:
        problem = error.reason
    return Observed(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        timestamp=timestamp,
        envelope=envelope,
        problem=problem,
        refusal=refusal,
    )
