"""The dead-letter topic: a message a consumer cannot use goes here with the reason."""

from __future__ import annotations

from collections.abc import Sequence
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


def dead_letter_headers(
    original: Sequence[tuple[str, bytes]] | None,
    *,
    topic: str,
    partition: int,
    offset: int,
    reason: str,
    consumer: str,
) -> Headers:
    """The original headers plus where the message came from, who refused it, and why."""
    kept: Headers = [(k, v) for k, v in (original or ()) if not k.startswith("kith-dlq")]
    return [
        *kept,
        (REASON, reason[:_MAX_REASON].encode()),
        (SOURCE_TOPIC, topic.encode()),
        (SOURCE_PARTITION, str(partition).encode()),
        (SOURCE_OFFSET, str(offset).encode()),
        (CONSUMER, consumer.encode()),
    ]


async def send_to_dead_letters(
    publisher: Publisher, record: ConsumerRecord[bytes, bytes], *, reason: str, consumer: str
) -> None:
    """Publish the original message, untouched, with headers saying where it came from and why."""
    headers = dead_letter_headers(
        record.headers,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        reason=reason,
        consumer=consumer,
    )
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
