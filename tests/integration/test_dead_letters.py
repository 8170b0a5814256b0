"""The shared consumer dead-letters what it cannot read, with the reason, and carries on."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.contracts import Envelope, Payload, encode
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import DEAD_LETTERS, REQUESTS
from shared.messaging import (
    DeadLetter,
    Delivery,
    EventConsumer,
    Publisher,
    read_dead_letter,
)
from tests.conftest import Stack
from tests.support import eventually

NEIGHBOURHOOD = "87195da49ffffff"


async def test_malformed_message_is_dead_lettered_and_the_next_one_handled(stack: Stack) -> None:
    settings = stack.settings()
    marker = uuid.uuid4().hex.encode()
    handled: list[Envelope[Payload]] = []

    async def handler(envelope: Envelope[Payload], _: Delivery) -> None:
        handled.append(envelope)

    publisher = Publisher(settings, client_id="test")
    await publisher.start()
    consumer = EventConsumer(
        settings,
        name="test-dlq",
        group_id=f"test-{uuid.uuid4()}",
        topics=[REQUESTS],
        handler=handler,
        dead_letters=publisher,
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    raw = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await raw.start()
    dlq = AIOKafkaConsumer(
        DEAD_LETTERS.name,
        bootstrap_servers=stack.bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
    )
    await dlq.start()
    try:
        valid = Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=NEIGHBOURHOOD),
            producer="test",
        )
        await raw.send_and_wait(REQUESTS.name, b"{not json", key=marker)
        await raw.send_and_wait(REQUESTS.name, encode(valid), key=marker)

        await eventually(
            lambda: _async(any(e.event_id == valid.event_id for e in handled)),
            what="the valid message after the malformed one",
        )
        letters: list[DeadLetter] = []

        async def dead_letter_for_marker() -> bool:
            batch = await dlq.getmany(timeout_ms=100)
            letters.extend(read_dead_letter(r) for rs in batch.values() for r in rs)
            return any(letter.key == marker for letter in letters)

        await eventually(dead_letter_for_marker, what="the dead letter")
        letter = next(letter for letter in letters if letter.key == marker)
        assert letter.topic == REQUESTS.name
        assert letter.reason.startswith("not JSON")
        assert letter.value == b"{not json"
        assert letter.consumer == "test-dlq"
    finally:
        await consumer.stop()
        task.cancel()
        await raw.stop()
        await dlq.stop()
        await publisher.stop()


async def _async(value: bool) -> bool:
    return value
