"""A handler that fails because its database is away is retried until it is back, never
dead-lettered: the event is valid, and dead-lettering it would lose it."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import REQUESTS
from shared.messaging import Delivery, EventConsumer, Publisher
from tests.conftest import Stack
from tests.support import eventually

NEIGHBOURHOOD = "87195da49ffffff"


async def test_an_event_whose_database_is_away_is_retried_until_it_is_applied(
    stack: Stack,
) -> None:
    settings = stack.settings()
    failures = 12  # more than the attempts a failing handler gets before dead-lettering
    applied: list[uuid.UUID] = []
    dead: list[bytes] = []
    event = Envelope.wrap(
        HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=NEIGHBOURHOOD),
        producer="test",
    )

    async def handler(envelope: Envelope[Payload], _: Delivery) -> None:
        nonlocal failures
        if envelope.event_id != event.event_id:
            return  # another test's event on the shared topic
        if failures:
            failures -= 1
            raise asyncpg.exceptions.CannotConnectNowError(
                "the database system is not yet accepting connections"
            )
        applied.append(envelope.event_id)

    class Letters(Publisher):
        # Earlier tests left unreadable messages on the shared topic: keep only this event's.
        async def publish_raw(self, *args: object, **kwargs: object) -> None:
            value = kwargs.get("value")
            if isinstance(value, bytes) and str(event.event_id).encode() in value:
                dead.append(value)

    publisher = Publisher(settings, client_id="test")
    await publisher.start()
    letters = Letters(settings, client_id="test-letters")
    await letters.start()
    consumer = EventConsumer(
        settings,
        name="test-transient",
        group_id=f"test-{uuid.uuid4()}",
        topics=[REQUESTS],
        handler=handler,
        dead_letters=letters,
        attempts=3,
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        await publisher.publish(event)

        async def applied_once() -> bool:
            return event.event_id in applied

        await eventually(applied_once, timeout_s=60, what="the event applied once it could be")
        assert dead == [], "a transient failure is never dead-lettered"
        assert applied == [event.event_id]
    finally:
        await consumer.stop()
        task.cancel()
        await publisher.stop()
        await letters.stop()
