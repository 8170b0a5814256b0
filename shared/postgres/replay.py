"""Replaying a service's outbox when the broker lost what the relay had published.

The embedded broker keeps its topics in memory: when it starts again it is empty, while
PostgreSQL still holds every event each service ever wrote to its outbox. A service calls
``replay_if_broker_lost`` as it starts, before its relay runs. Offsets on a topic never go
back while the topic keeps its messages (compaction and retention delete messages, never
offsets), so a topic whose partitions end below the number of events this outbox published
to it has lost them: the outbox is then marked unpublished and the relay sends it again, in
order. Consumers dedupe by event id, so a consumer that had applied an event skips it.
"""

from __future__ import annotations

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.messaging.connection import Kafka, KafkaConnection
from shared.messaging.offsets import end_offsets
from shared.settings import Settings

log = structlog.get_logger(__name__)


async def published_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """How many events this outbox has published to each topic."""
    rows = await pool.fetch(
        "SELECT topic, count(*) AS n FROM outbox WHERE published_at IS NOT NULL GROUP BY topic"
    )
    return {row["topic"]: int(row["n"]) for row in rows}


async def topic_ends(kafka: Kafka, topics: list[str]) -> dict[str, int]:
    """The sum of each topic's end offsets now (0 for a topic the broker does not have)."""
    reader = AIOKafkaConsumer(**KafkaConnection.of(kafka).aiokafka(), group_id=None)
    await reader.start()
    try:
        known = await reader.topics()
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            if topic in known
            for number in reader.partitions_for_topic(topic) or ()
        ]
    finally:
        await reader.stop()
    ends = dict.fromkeys(topics, 0)
    for partition, end in (await end_offsets(kafka, partitions)).items():
        ends[partition.topic] += end
    return ends


async def replay_if_broker_lost(
    pool: asyncpg.Pool, settings: Settings, *, skip: str | None = None
) -> int:
    """Mark the outbox unpublished if the broker lost published events; return rows marked.

    Args:
        pool: The service's database.
        settings: Where the broker is.
        skip: An SQL condition on ``outbox`` rows naming events that need not be sent again
            (they describe something already settled); they stay marked published.
    """
    published = await published_counts(pool)
    if not published:
        return 0
    ends = await topic_ends(settings, sorted(published))
    short = {
        topic: (ends[topic], count) for topic, count in published.items() if ends[topic] < count
    }
    if not short:
        return 0
    condition = "" if skip is None else f" WHERE NOT ({skip})"
    status = await pool.execute(f"UPDATE outbox SET published_at = NULL{condition}")
    marked = int(status.split()[-1])
    log.warning(
        "broker lost published events: replaying the outbox",
        topics={
            topic: f"{end} on the broker, {count} published"
            for topic, (end, count) in short.items()
        },
        events=marked,
    )
    return marked
