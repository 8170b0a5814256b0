"""A partition's end, as the platform (and matching's faust consumer) reads it, counts every
message a batch put there."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP

from services.matching.app import create_app, runtime_of
from shared.contracts.topics import KeyBy, Topic
from shared.messaging import end_offsets, group_caught_up
from tests.conftest import Stack


async def _topic(stack: Stack) -> str:
    name = f"kith.test-ends-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    return name


async def _batch(stack: Stack, topic: str, count: int) -> None:
    """``count`` messages to partition 0 in one record batch (the producer lingers)."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, linger_ms=100)
    await producer.start()
    try:
        sent = [await producer.send(topic, b"m", partition=0) for _ in range(count)]
        offsets = [(await future).offset for future in sent]
    finally:
        await producer.stop()
    assert offsets == list(range(count))


async def test_the_end_counts_every_message_of_a_batch(stack: Stack) -> None:
    topic = await _topic(stack)
    await _batch(stack, topic, 5)
    ends = await end_offsets(stack.bootstrap, [TopicPartition(topic, 0), TopicPartition(topic, 1)])
    assert ends == {TopicPartition(topic, 0): 5, TopicPartition(topic, 1): 0}


async def test_a_group_that_read_only_part_of_a_batch_has_not_caught_up(stack: Stack) -> None:
    topic = await _topic(stack)
    await _batch(stack, topic, 5)
    group = f"kith-test-{uuid.uuid4().hex[:8]}"
    committer = AIOKafkaConsumer(
        bootstrap_servers=stack.bootstrap, group_id=group, enable_auto_commit=False
    )
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 1})
    finally:
        await committer.stop()
    assert not await group_caught_up(stack.bootstrap, group, Topic(topic, 2, KeyBy.NEIGHBOURHOOD))


async def test_matching_sees_where_a_batch_ends(stack: Stack) -> None:
    # A worker taking over partitions compares its tables' changelog offsets with these ends:
    # one short by a batch stopped the survivor of a killed worker (``kith faults``).
    topic = await _topic(stack)
    await _batch(stack, topic, 5)
    app = create_app(stack.settings(), app_id=f"test-ends-{uuid.uuid4().hex[:8]}")
    await app.start()
    try:
        await asyncio.wait_for(runtime_of(app).ready.wait(), timeout=30)
        ends = await app.consumer.highwaters(TP(topic, 0), TP(topic, 1))
    finally:
        await app.stop()
    assert dict(ends) == {TP(topic, 0): 5, TP(topic, 1): 0}
