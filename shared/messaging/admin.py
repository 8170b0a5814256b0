"""Creating Kith's topics on a broker."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.contracts.topics import ALL_TOPICS, Topic
from shared.messaging.connection import Kafka, KafkaConnection
from shared.messaging.offsets import end_offsets
from shared.settings import Settings


async def ensure_topics(settings: Settings, topics: tuple[Topic, ...] = ALL_TOPICS) -> list[str]:
    """Create every missing topic with its registered partitions; return the names created."""
    admin = AIOKafkaAdminClient(**KafkaConnection.of(settings).aiokafka(), client_id="kith-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        topic.name,
                        num_partitions=topic.partitions,
                        replication_factor=settings.kafka_replication_factor,
                        topic_configs={"cleanup.policy": "compact"} if topic.compacted else {},
                    )
                    for topic in missing
                ]
            )
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def group_caught_up(kafka: Kafka, group_id: str, topic: Topic) -> bool:
    """Whether ``group_id`` has committed past everything now on ``topic``.

    Lets a client wait until a consumer has seen an event it cannot observe through an API
    (for example, that matching has applied a relationship before the next request).
    """
    return not await group_lag(kafka, group_id, topic)


async def group_lag(kafka: Kafka, group_id: str, topic: Topic) -> dict[int, tuple[int, int]]:
    """Per partition of ``topic`` that ``group_id`` has not committed past: its committed
    offset and the partition's end."""
    # A consumer that only looks at offsets: it never joins the group it inspects.
    reader = AIOKafkaConsumer(
        **KafkaConnection.of(kafka).aiokafka(), group_id=group_id, enable_auto_commit=False
    )
    await reader.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        ends = await end_offsets(kafka, partitions)
        lag = {}
        for partition in partitions:
            committed = await reader.committed(partition) or 0
            if ends[partition] > 0 and committed < ends[partition]:
                lag[partition.partition] = (committed, ends[partition])
        return lag
    finally:
        await reader.stop()
