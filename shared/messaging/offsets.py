"""Where each partition ends: exact, on any Kafka-protocol broker."""

from __future__ import annotations

import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.messaging.connection import Kafka, KafkaConnection


async def end_offsets(
    kafka: Kafka, partitions: Sequence[TopicPartition], *, timeout_s: float = 10.0
) -> dict[TopicPartition, int]:
    """The offset the next message on each partition will get, now.

    The embedded broker (Tansu) answers a ListOffsets request for the latest offset with the
    last record batch's first offset plus one: after a batch of five it says 1, not 5. A
    fetch's high watermark is exact on every broker, so each partition is fetched from just
    before the listed end and its high watermark taken (never less than the listed end).

    Raises:
        TimeoutError: When the broker answers no fetch for a partition within ``timeout_s``.
    """
    if not partitions:
        return {}
    reader = AIOKafkaConsumer(
        **KafkaConnection.of(kafka).aiokafka(),
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
    )
    await reader.start()
    try:
        listed: dict[TopicPartition, int] = await reader.end_offsets(list(partitions))
        reader.assign(list(partitions))
        for partition in partitions:
            reader.seek(partition, max(listed[partition] - 1, 0))
        ends: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + timeout_s
        while len(ends) < len(listed):
            waiting = [p for p in partitions if p not in ends]
            await reader.getmany(*waiting, timeout_ms=50, max_records=1)
            for partition in waiting:
                highwater = reader.highwater(partition)
                if highwater is not None:
                    ends[partition] = max(highwater, listed[partition])
            if len(ends) < len(listed) and time.monotonic() > deadline:
                raise TimeoutError(f"no fetch answered for {sorted(set(waiting) - set(ends))}")
        return ends
    finally:
        await reader.stop()
