"""Trust started in-process on its own fresh database, and a reader of what it publishes."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from services.trust.bootstrap import TrustService
from shared.contracts import UndecodableEvent, decode
from shared.contracts.topics import DEAD_LETTERS, RELATIONSHIPS, STANDING
from shared.contracts.trust import RelationshipChanged, StandingChanged
from shared.geo import neighbourhood_of
from shared.messaging import DeadLetter, Publisher, read_dead_letter
from tests.conftest import Stack


class Outputs:
    """Everything on trust's output topics (and the dead letters) since the reader started."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(
            RELATIONSHIPS.name,
            STANDING.name,
            DEAD_LETTERS.name,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
        )
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            for records in batch.values():
                self.records.extend(records)

    def _events(self, topic: str) -> list[object]:
        # Other tests share these topics and put malformed messages on them on purpose.
        found: list[object] = []
        for record in self.records:
            if record.topic == topic:
                with contextlib.suppress(UndecodableEvent):
                    found.append(decode(record.value).data)
        return found

    def relationships(self, pair_id: str) -> list[RelationshipChanged]:
        """Every published record of one pair, in order."""
        return [
            data
            for data in self._events(RELATIONSHIPS.name)
            if isinstance(data, RelationshipChanged) and data.pair_id == pair_id
        ]

    def standings(self, person_id: uuid.UUID) -> list[StandingChanged]:
        """Every published standing of one person, in order."""
        return [
            data
            for data in self._events(STANDING.name)
            if isinstance(data, StandingChanged) and data.person_id == person_id
        ]

    def dead_letter(self, key: bytes) -> DeadLetter | None:
        """The dead letter of the message sent with ``key``, if it has arrived."""
        for record in self.records:
            if record.topic == DEAD_LETTERS.name and record.key == key:
                return read_dead_letter(record)
        return None


def random_neighbourhood() -> str:
    """A neighbourhood cell no other test uses (so keys and partitions vary)."""
    return neighbourhood_of(random.uniform(50.0, 58.0), random.uniform(-5.0, 1.5))


def fresh_database(url: str) -> str:
    """A new database on the same server, for this test module alone."""
    return urlunsplit(urlsplit(url)._replace(path=f"/kith_trust_{uuid.uuid4().hex[:12]}"))


@pytest.fixture(scope="module")
async def trust(stack: Stack) -> AsyncIterator[TrustService]:
    service = TrustService(
        stack.settings(outbox_poll_s=0.1),
        database_url=fresh_database(stack.database_url),
        group_id=f"test-trust-{uuid.uuid4()}",
        sweep_every_s=3600,  # tests call the sweep themselves
    )
    await service.start()
    try:
        await asyncio.wait_for(service.ready(), timeout=30)
        # The streams hold every earlier test's events: reading them all first took this
        # module's tests past their deadlines late in a full run.
        await service.skip_history()
        yield service
    finally:
        await service.stop()


@pytest.fixture(scope="module")
async def outputs(stack: Stack) -> AsyncIterator[Outputs]:
    reader = Outputs(stack.bootstrap)
    await reader.start()
    try:
        yield reader
    finally:
        await reader.stop()


@pytest.fixture(scope="module")
async def publisher(stack: Stack) -> AsyncIterator[Publisher]:
    sender = Publisher(stack.settings(), client_id="test-trust-sender")
    await sender.start()
    try:
        yield sender
    finally:
        await sender.stop()


@pytest.fixture(scope="module")
async def raw_producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()
