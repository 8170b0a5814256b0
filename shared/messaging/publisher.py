"""Publishing envelopes (and raw dead letters) to Kafka."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from shared import metrics
from shared.contracts import Envelope, encode, key_for, topic_for
from shared.messaging.connection import KafkaConnection
from shared.messaging.partitioner import partition_of
from shared.settings import Settings

Headers = list[tuple[str, bytes]]


class Publisher:
    """A started producer that waits for the broker's acknowledgement of every event."""

    def __init__(self, settings: Settings, *, client_id: str, service: str | None = None) -> None:
        self.service = service or metrics.service_name()
        """The ``service`` label of this publisher's metrics (the process's by default)."""
        self._producer = AIOKafkaProducer(
            **KafkaConnection.of(settings).aiokafka(),
            client_id=client_id,
            acks=_acks(settings.kafka_acks),
            # The embedded broker rejects the producer-id request idempotence needs.
            enable_idempotence=settings.kafka_idempotence,
            linger_ms=0,
            request_timeout_ms=15_000,
            partitioner=partition_of,
        )

    async def start(self) -> None:
        """Connect to the broker."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def publish(self, envelope: Envelope[Any]) -> None:
        """Publish one event on its registered topic, keyed to keep its order."""
        await self.publish_many([envelope])

    async def publish_many(self, envelopes: Sequence[Envelope[Any]]) -> None:
        """Publish events in order and return once the broker has acknowledged all of them."""
        await self.send_encoded(
            [(topic_for(e.data).name, key_for(e.data), encode(e), e.type) for e in envelopes]
        )

    async def send_encoded(self, messages: Sequence[tuple[str, bytes, bytes | None, str]]) -> None:
        """Publish already-encoded ``(topic, key, envelope, type)`` in order; wait for all acks.

        A ``None`` envelope is a tombstone (see ``shared.postgres.outbox.add_tombstones``).
        """
        futures = [
            await self._producer.send(
                topic, value=value, key=key, headers=[("kith-type", kind.encode())]
            )
            for topic, key, value, kind in messages
        ]
        await asyncio.gather(*futures)
        # Counted once per topic and type: a relay's batch holds hundreds of one kind.
        published = Counter((topic, kind) for topic, _, _, kind in messages)
        for (topic, kind), count in published.items():
            metrics.EVENTS_PUBLISHED.labels(self.service, topic, kind).inc(count)

    async def publish_raw(
        self, topic: str, *, value: bytes | None, key: bytes | None, headers: Headers
    ) -> None:
        """Publish bytes as they are: dead letters keep the original message untouched."""
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)
        # Not the message's own type header: a dead letter's headers are untrusted input, and
        # a label per invented type would grow without bound.
        metrics.EVENTS_PUBLISHED.labels(self.service, topic, "raw").inc()


def _acks(value: str) -> int | str:
    return "all" if value in {"all", "-1"} else int(value)
