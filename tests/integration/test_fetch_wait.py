"""An idle consumer or reader fetches with the longer wait (longer still for one no one waits
on), and its next event still arrives and puts the short wait back."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import REQUESTS
from shared.geo import neighbourhood_of
from shared.messaging import Delivery, Publisher, fetch_wait
from shared.messaging.reader import StreamReader
from tests.conftest import Stack
from tests.integration.consumers import running_member
from tests.support import eventually


async def test_an_idle_consumer_waits_longer_and_still_hears_the_next_event(
    stack: Stack, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_wait, "IDLE_AFTER_S", 0.3)
    settings = stack.settings()
    assert settings.fetch_max_wait_ms < settings.idle_fetch_max_wait_ms
    heard: dict[uuid.UUID, int] = {}
    """Each event handled, with the fetch wait in force as it was handled."""

    async def handle(envelope: Envelope[Payload], _: Delivery) -> None:
        heard[envelope.event_id] = fetcher._fetch_max_wait_ms

    group = f"test-fetch-wait-{uuid.uuid4().hex[:8]}"
    async with running_member(settings, publisher, group, handle, from_beginning=False) as member:
        fetcher = member._consumer._fetcher  # what aiokafka builds each fetch request from

        async def waiting(ms: int) -> bool:
            return bool(fetcher._fetch_max_wait_ms == ms)

        await eventually(lambda: waiting(settings.idle_fetch_max_wait_ms), what="idle")
        event = Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood_of(51, 0)),
            producer="test",
        )
        await publisher.publish_many([event])
        await eventually(lambda: asyncio.sleep(0, event.event_id in heard), what="the event")
        assert heard[event.event_id] == settings.fetch_max_wait_ms, "busy again"


async def test_a_background_consumer_idles_longer_still_and_still_hears_the_next_event(
    stack: Stack, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_wait, "IDLE_AFTER_S", 0.3)
    settings = stack.settings()
    # Longer than every other consumer's, shorter than the default (30 s): the event after
    # the quiet spell comes within a few seconds.
    longer = settings.idle_fetch_max_wait_ms + 2000
    settings = settings.model_copy(update={"background_idle_fetch_max_wait_ms": longer})
    heard: dict[uuid.UUID, int] = {}

    async def handle(envelope: Envelope[Payload], _: Delivery) -> None:
        heard[envelope.event_id] = fetcher._fetch_max_wait_ms

    group = f"test-fetch-wait-{uuid.uuid4().hex[:8]}"
    async with running_member(
        settings, publisher, group, handle, from_beginning=False, background=True
    ) as member:
        fetcher = member._consumer._fetcher

        async def waiting(ms: int) -> bool:
            return bool(fetcher._fetch_max_wait_ms == ms)

        await eventually(lambda: waiting(settings.background_idle_fetch_max_wait_ms), what="idle")
        event = Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood_of(53, 2)),
            producer="test",
        )
        await publisher.publish_many([event])
        await eventually(lambda: asyncio.sleep(0, event.event_id in heard), what="the event")
        assert heard[event.event_id] == settings.background_fetch_max_wait_ms, "busy again"


async def test_a_reader_of_every_partition_idles_the_same_way(
    stack: Stack, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_wait, "IDLE_AFTER_S", 0.3)
    settings = stack.settings()
    reader = StreamReader(
        settings,
        [REQUESTS.name],
        from_beginning=False,
        fetch_max_wait_ms=settings.background_fetch_max_wait_ms,
        idle_fetch_max_wait_ms=settings.idle_fetch_max_wait_ms,
    )
    await reader.start()
    try:
        fetcher = reader._consumer._fetcher
        event = Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood_of(52, 1)),
            producer="test",
        )
        read: list[uuid.UUID] = []

        async def waiting(ms: int) -> bool:
            read.extend(
                item.envelope.event_id
                for item in await reader.read(timeout_ms=100)
                if item.envelope is not None
            )
            return bool(fetcher._fetch_max_wait_ms == ms)

        await eventually(lambda: waiting(settings.idle_fetch_max_wait_ms), what="idle")
        await publisher.publish_many([event])
        await eventually(lambda: waiting(settings.background_fetch_max_wait_ms), what="busy again")
        assert event.event_id in read
    finally:
        await reader.stop()
