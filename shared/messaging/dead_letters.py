"""The dead-letter topic: a message a consumer cannot use goes here with the reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka.structs import ConsumerRecord

from shared import metrics
from shared.contracts.topics import DEAD_LETTERS
from shared.messaging.publisher import Headers, Publisher

REASON = "kith-dlq-reason"
SOURCE_TOPIC = "kith-dlq-topic"
SOURCE_PARTITION = "kith-dlq-partition"
SOURCE_OFFSET = "kith-dlq-offset"
CONSUMER = "kith-dlq-consumer"
_MAX_REASON = 2000

log = structlog.get_logger(__name__)


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


class Refused(Protocol):
    """A consumed message, as aiokafka and faust both describe one."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]] | None: ...


#: Sends a dead letter: key, value, headers; returns once the broker has it.
Send = Callable[[bytes | None, bytes | None, Headers], Awaitable[object]]


def publisher_sender(publisher: Publisher) -> Send:
    """Dead letters sent through ``publisher``."""

    async def send(key: bytes | None, value: bytes | None, headers: Headers) -> None:
        await publisher.publish_raw(DEAD_LETTERS.name, value=value, key=key, headers=headers)

    return send


async def dead_letter(
    send: Send,
    message: Refused,
    *,
    reason: str,
    category: metrics.DeadLetterReason,
    consumer: str,
    service: str,
    secret_headers: Collection[str] = (),
) -> None:
    """Send the original message, untouched, to the dead-letter topic, with headers saying
    where it came from, who refused it and why; log it and count it.

    Every consumer dead-letters through here: the shared loop and matching's faust agents.
    ``secret_headers`` (a partner's key) are left out: operators and their tools read the
    dead letters.
    """
    log.warning(
        "dead-lettered",
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        reason=reason,
        consumer=consumer,
    )
    kept = [(k, v) for k, v in message.headers or () if k not in secret_headers]
    headers = dead_letter_headers(
        kept,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        reason=reason,
        consumer=consumer,
    )
    await send(message.key, message.value, headers)
    metrics.DEAD_LETTERS.labels(service, message.topic, category.value).inc()


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
