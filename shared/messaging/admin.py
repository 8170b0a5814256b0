"""Creating Kith's topics on a broker."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.contracts.topics import ALL_TOPICS, Topic
from shared.settings import Settings


async def ensure_topics(settings: Settings, topics: tuple[Topic, ...] = ALL_TOPICS) -> list[str]:
    """Create every missing topic with its registered partitions; return the names created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.require_bootstrap(), client_id="kith-admin"
    )
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
