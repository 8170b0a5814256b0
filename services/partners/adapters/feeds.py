"""The partners' feed topics on Kafka."""

from __future__ import annotations

from collections.abc import Sequence

from services.partners.service_layer.records import FeedMessage
from shared.contracts.topics import KeyBy, Topic
from shared.messaging import Publisher, ensure_topics
from shared.settings import Settings

#: Partitions of each partner's feed: enough for a partner to read with a few consumers.
FEED_PARTITIONS = 4


def feed_topic(name: str) -> Topic:
    """A partner's feed as a topic to create. Messages keep the key they had upstream, so a
    partner sees each key's events in the order Kith published them."""
    return Topic(
        name,
        FEED_PARTITIONS,
        KeyBy.ORIGINAL,
        description="One partner's events, reduced to the fields its scopes allow.",
    )


class KafkaFeeds:
    """Creates feed topics and writes to them with the gateway's producer."""

    def __init__(self, settings: Settings, publisher: Publisher) -> None:
        self._settings = settings
        self._publisher = publisher

    async def ensure(self, topics: Sequence[str]) -> None:
        """Create the feed topics that do not exist yet."""
        await ensure_topics(self._settings, tuple(feed_topic(name) for name in topics))

    async def publish(self, messages: Sequence[FeedMessage]) -> None:
        """Write messages in order and wait for the broker's acknowledgement."""
        await self._publisher.send_encoded([(m.topic, m.key, m.value, m.type) for m in messages])
