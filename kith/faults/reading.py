"""What the checkers read: whole topics, consumer groups' progress, services' databases.

The checkers are observers: they read topics without a consumer group, and services'
databases through read-only transactions. Nothing here changes what they look at.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeAlias, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from kith.client import ApiError, until
from shared.contracts import Envelope, Payload, UndecodableEvent, decode
from shared.contracts.topics import Topic
from shared.messaging import Kafka, KafkaConnection, end_offsets, group_caught_up
from shared.messaging.reader import StreamReader, read_to_end

T = TypeVar("T")
Record: TypeAlias = ConsumerRecord[bytes, bytes]


async def read_topics(kafka: Kafka, names: Sequence[str]) -> list[Record]:
    """Every message now on the named topics, in order within each partition."""
    return await read_to_end(kafka, names)


class LatestValues:
    """The latest value of every key on a topic (a table's changelog), read once: each
    ``refresh`` reads only what was added since the last.

    A checker that looks until what it sees settles would otherwise read the whole topic on
    every look: matching's helper ledger after 5,000 bookings holds 5,000 whole states of up
    to 13 KB. Only the latest value per key is kept, not the topic.
    """

    def __init__(self, kafka: Kafka, topic: str) -> None:
        self._reader = StreamReader(
            kafka,
            [topic],
            from_beginning=True,
            client_id="kith-faults-latest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        self._started = False
        self.latest: dict[bytes, bytes | None] = {}
        """Each key's latest value (``None``: deleted), as of the last ``refresh``."""

    async def refresh(self) -> dict[bytes, bytes | None]:
        """Read to the topic's end as it is now; the latest value of every key."""
        if not self._started:
            await self._reader.start()
            self._started = True
        async for record in self._reader.read_to(await self._reader.end_offsets()):
            if record.key is not None:
                self.latest[record.key] = record.value
        return self.latest

    async def close(self) -> None:
        """Disconnect."""
        if self._started:
            await self._reader.stop()


def events_of(records: Sequence[Record]) -> list[tuple[Record, Envelope[Payload]]]:
    """The records that hold a Kith event, with the event (the rest are skipped)."""
    found = []
    for record in records:
        with contextlib.suppress(UndecodableEvent):
            found.append((record, decode(record.value)))
    return found


async def caught_up(kafka: Kafka, group_id: str, topics: Sequence[Topic]) -> bool:
    """Whether ``group_id`` has committed past everything now on every one of ``topics``."""
    for topic in topics:
        if not await group_caught_up(kafka, group_id, topic):
            return False
    return True


async def wait_caught_up(
    kafka: Kafka, group_id: str, topics: Sequence[Topic], *, timeout_s: float = 120
) -> None:
    """Wait until ``group_id`` has read (and committed) everything now on ``topics``."""

    async def probe() -> bool:
        return await caught_up(kafka, group_id, topics)

    await until(probe, timeout_s, f"{group_id} to catch up", every_s=0.2)


async def settle(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout_s: float
) -> T:
    """Call ``probe`` until ``done`` says its result is final, or time runs out; return the
    last result either way (a checker reports what it saw, it does not raise). Results must
    be truthy (a dataclass, a non-empty tuple)."""
    last: T | None = None

    async def attempt() -> T | None:
        nonlocal last
        last = await probe()
        return last if done(last) else None

    with contextlib.suppress(ApiError):
        return await until(attempt, timeout_s, "the checks to settle", every_s=0.5)
    assert last is not None
    return last


@contextlib.asynccontextmanager
async def read_only(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a service's database inside a read-only transaction."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(readonly=True):
            yield conn
    finally:
        await conn.close()


async def ends_now(kafka: Kafka, topics: Sequence[Topic]) -> dict[TopicPartition, int]:
    """Where each partition of ``topics`` ends now (a mark for ``group_reached``)."""
    return await end_offsets(
        kafka, [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
    )


async def group_reached(kafka: Kafka, group_id: str, marks: dict[TopicPartition, int]) -> bool:
    """Whether ``group_id`` has committed at least up to ``marks`` on every partition."""
    reader = AIOKafkaConsumer(
        **KafkaConnection.of(kafka).aiokafka(), group_id=group_id, enable_auto_commit=False
    )
    await reader.start()
    try:
        for partition, end in marks.items():
            if end > 0 and ((await reader.committed(partition)) or 0) < end:
                return False
        return True
    finally:
        await reader.stop()
