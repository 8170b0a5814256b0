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
from shared.messaging.reader import read_to_end

T = TypeVar("T")
Record: TypeAlias = ConsumerRecord[bytes, bytes]


async def read_topics(kafka: Kafka, names: Sequence[str]) -> list[Record]:
    """Every message now on the named topics, in order within each partition."""
    return await read_to_end(kafka, names)


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
