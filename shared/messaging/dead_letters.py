"""The dead-letter topic: a message a consumer cannot use goes here with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord

from shared.contracts.topics import DEAD_LETTERS
from shared.messaging.publisher import Headers, Publisher

REASON = "kith-dlq-reason"
SOURCE_TOPIC = "kith-dlq-topic"
SOURCE_PARTITION = "kith-dlq-partition"
SOURCE_OFFSET = "kith-dlq-offset"
CONSUMER = "kith-dlq-consumer"
_MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead-lettered message, read back: where it came from, why, and what it held."""

    reason: str
    topic: str
    partition: int
    offset: int
    consumer: str
    key: bytes | None
    value: bytes | None


async def send_to_dead_letters(
    publisher: Publisher, record: ConsumerRecord[bytes, bytes], *, reason: str, consumer: str
) -> None:
    """Publish the original message, untouched, with headers saying where it came from and why."""
    original: Headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("kith-dlq")]
    headers: Headers = [
        *original,
        (REASON, reason[:_MAX_REASON].encode()),
        (SOURCE_TOPIC, record.topic.encode()),
        (SOURCE_PARTITION, str(record.partition).encode()),
        (SOURCE_OFFSET, str(record.offset).encode()),
        (CONSUMER, consumer.encode()),
    ]
    await publisher.publish_raw(
        DEAD_LETTERS.name, value=record.value, key=record.key, headers=headers
    )


def read_dead_letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    """Parse a message read from the dead-letter topic."""
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    return DeadLetter(
        reason=headers.get(REASON, ""),
        topic=headers.get(SOURCE_TOPIC, ""),
        partition=int(headers.get(SOURCE_PARTITION, "-1")),
        offset=int(headers.get(SOURCE_OFFSET, "-1")),
        consumer=headers.get(CONSUMER, ""),
        key=record.key,
        value=record.value,
    )
