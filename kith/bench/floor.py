"""The two-hop floor of ``kith bench latency``: what the broker alone costs a request's path.

A request reaches its offer through two hops over the broker: booking's relay produces it,
matching consumes it and produces an offer, booking consumes the offer. Here the same two
hops carry nothing else: a producer sends small messages on an open-loop schedule to one
fresh topic, a relay consumes each and produces it on a second, a last consumer reads them;
same broker, the fetch wait and producer settings Kith uses, the partitions of Kith's
neighbourhood topics. Kith's latency divided by this floor, measured in the same run, is what
Kith's own work per event costs, whatever the machine's load at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from typing import Any

from shared.settings import Settings

#: A message not through both hops this long after its send time counts as lost.
_GRACE_S = 10.0


async def two_hop_floor(
    settings: Settings,
    *,
    rate: float,
    duration: float,
    samples: list[tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Send ``rate`` messages a second for ``duration`` seconds through two hops; p50, p99.

    ``samples``, if given, receives each message's send time (seconds after the first) and
    latency (seconds): what a long run's first and last minutes are told from."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from shared.contracts.topics import NEIGHBOURHOOD_PARTITIONS
    from shared.messaging.connection import KafkaConnection

    connection = KafkaConnection.from_settings(settings)
    run = uuid.uuid4().hex[:8]
    first, second = f"kith-bench-floor-{run}-a", f"kith-bench-floor-{run}-b"
    admin = AIOKafkaAdminClient(**connection.aiokafka())
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, NEIGHBOURHOOD_PARTITIONS, 1) for name in (first, second)]
        )
    finally:
        await admin.close()
    producing = {
        "linger_ms": 0,
        "acks": -1 if settings.kafka_acks in {"all", "-1"} else int(settings.kafka_acks),
        "enable_idempotence": settings.kafka_idempotence,
    }
    consuming = {
        "fetch_max_wait_ms": settings.fetch_max_wait_ms,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
    }
    sender = AIOKafkaProducer(**connection.aiokafka(), **producing)
    relay_out = AIOKafkaProducer(**connection.aiokafka(), **producing)
    relay_in = AIOKafkaConsumer(**connection.aiokafka(), **consuming)
    last = AIOKafkaConsumer(**connection.aiokafka(), **consuming)
    for client in (sender, relay_out, relay_in, last):
        await client.start()
    # Assigned, not joined: a group join waits for the broker's whole rebalance timeout.
    relay_in.assign([TopicPartition(first, p) for p in range(NEIGHBOURHOOD_PARTITIONS)])
    last.assign([TopicPartition(second, p) for p in range(NEIGHBOURHOOD_PARTITIONS)])
    count = max(1, int(rate * duration))
    arrived: dict[int, float] = {}
    began = time.perf_counter() + 0.5

    async def send() -> None:
        for index in range(count):
            due = began + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            key = str(index % 64).encode()
            await sender.send(first, key=key, value=str(index).encode())

    async def relay() -> None:
        while True:
            batches = await relay_in.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    # As matching does: send, and go on without waiting for the ack.
                    await relay_out.send(second, key=record.key, value=record.value)

    async def receive() -> None:
        while len(arrived) < count:
            batches = await last.getmany(timeout_ms=1000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    arrived.setdefault(int(record.value or b"0"), now)

    relaying = asyncio.create_task(relay())
    try:
        receiving = asyncio.create_task(receive())
        await send()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiving, timeout=_GRACE_S)
    finally:
        relaying.cancel()
        for client in (sender, relay_out, relay_in, last):
            await client.stop()
    if samples is not None:
        samples.extend((index / rate, at - (began + index / rate)) for index, at in arrived.items())
    latencies = sorted((at - (began + index / rate)) * 1000 for index, at in arrived.items())
    if len(latencies) < 2:
        raise RuntimeError(f"only {len(latencies)} of {count} messages made both hops")
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "floor_p50_ms": round(quantiles[49], 1),
        "floor_p99_ms": round(quantiles[98], 1),
        "floor_lost": count - len(latencies),
    }
