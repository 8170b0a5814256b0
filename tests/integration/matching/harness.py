"""A matching app on the real broker for tests: helpers and requests in a fresh place, and
what it sends on the offers topic."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import ConsumerRecord

from services.matching.app import create_app, runtime_of
from shared.contracts import Envelope, Payload, UndecodableEvent, decode
from shared.contracts.candidates import CandidatesListed, OfferDirectionRefused
from shared.contracts.people import AvailabilityChanged, PersonProfileChanged
from shared.contracts.requests import HelpRequested, OfferMade, RequestUnmatched
from shared.contracts.skills import Skill
from shared.contracts.topics import DEAD_LETTERS, OFFERS
from shared.contracts.trust import StandingChanged
from shared.geo import cell_of, neighbourhood_of
from shared.messaging import Publisher, read_dead_letter
from shared.messaging.dead_letters import DeadLetter
from tests.conftest import Stack
from tests.support import eventually

HOLD_S = 1
#: Bytes asked of one partition per fetch by ``batches_keyed``.
_PAGE = 1 << 20
T = TypeVar("T")


class Harness:
    """The running app, a publisher, and everything seen on the offers topic."""

    def __init__(self, app: faust.App, publisher: Publisher, bootstrap: str) -> None:
        self.app = app
        self.bootstrap = bootstrap
        self.publisher = publisher
        self.offers: list[Envelope[Payload]] = []
        self.dead_letters: list[DeadLetter] = []

    def for_request(self, request_id: uuid.UUID) -> list[Payload]:
        return [
            e.data
            for e in self.offers
            if isinstance(
                e.data, OfferMade | RequestUnmatched | CandidatesListed | OfferDirectionRefused
            )
            and e.data.request_id == request_id
        ]

    async def events_for(self, request_id: uuid.UUID, count: int) -> list[Payload]:
        async def probe() -> list[Payload] | None:
            seen = self.for_request(request_id)
            return seen if len(seen) >= count else None

        return await eventually(probe, timeout_s=20, what=f"{count} events for {request_id}")


async def _tail(
    consumer: AIOKafkaConsumer, sink: list[T], read: Callable[[ConsumerRecord[bytes, bytes]], T]
) -> None:
    while True:
        batch = await consumer.getmany(timeout_ms=100)
        for records in batch.values():
            for record in records:
                # Other tests share these topics and put malformed messages on them on purpose.
                with contextlib.suppress(UndecodableEvent):
                    sink.append(read(record))


async def _tail_from_end(stack: Stack, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, fetch_max_wait_ms=10)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    return consumer


@contextlib.asynccontextmanager
async def running_harness(stack: Stack, **settings: object) -> AsyncIterator[Harness]:
    """A matching app of its own (its own consumer group, reading from the end), with
    ``settings`` over a one-helper-a-round cascade, and a tail of the offers it makes."""
    defaults: dict[str, object] = {
        "regular_hold_s": HOLD_S,
        "offer_ttl_s": 60,
        "cascade_width": 1,
        "cascade_rounds": 3,
        "session_timeout_ms": 1000,
        "rebalance_timeout_ms": 1000,
        "heartbeat_interval_ms": 200,
    }
    app = create_app(
        stack.settings(**(defaults | settings)),
        app_id=f"test-matching-{uuid.uuid4().hex[:8]}",
        from_beginning=False,
    )
    publisher = Publisher(stack.settings(), client_id="test-matching")
    await publisher.start()
    harness = Harness(app, publisher, stack.bootstrap)
    offers = await _tail_from_end(stack, OFFERS.name)
    letters = await _tail_from_end(stack, DEAD_LETTERS.name)
    tails = [
        asyncio.create_task(_tail(offers, harness.offers, lambda r: decode(r.value))),
        asyncio.create_task(_tail(letters, harness.dead_letters, read_dead_letter)),
    ]
    try:
        await app.start()
        await asyncio.wait_for(runtime_of(app).ready.wait(), timeout=30)
        yield harness
    finally:
        await app.stop()
        for task in tails:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await offers.stop()
        await letters.stop()
        await publisher.stop()


class Place:
    """A fresh random neighbourhood, so tests never see each other's helpers.

    Drawn far from the London neighbourhoods the booking tests beside it fill with helpers on the
    same broker: a test that books a few hours from now met one of theirs.
    """

    def __init__(self) -> None:
        self.lat = random.uniform(-44.0, -30.0)
        self.lng = random.uniform(116.0, 150.0)
        self.neighbourhood = neighbourhood_of(self.lat, self.lng)
        self.cell = cell_of(self.lat, self.lng)
        monday = datetime(2031, 1, 6, tzinfo=UTC) + timedelta(weeks=random.randint(0, 200))
        self.starts_at = monday + timedelta(hours=10)

    def near(self, metres: float) -> str:
        return cell_of(self.lat + metres / 111_000, self.lng)


async def add_helper(
    harness: Harness,
    place: Place,
    metres: float = 300,
    languages: list[str] | None = None,
    cell: str | None = None,
) -> uuid.UUID:
    helper_id = uuid.uuid4()
    hours = [place.starts_at + timedelta(hours=h) for h in range(-2, 4)]
    await harness.publisher.publish_many(
        [
            Envelope.wrap(
                PersonProfileChanged(
                    person_id=helper_id,
                    display_name="Helper",
                    neighbourhood=place.neighbourhood,
                    cell=cell or place.near(metres),
                    skills=[Skill.SHOPPING],
                    travel_radius_km=5,
                    weekly_hour_cap=10,
                    languages=languages or [],
                ),
                producer="test",
            ),
            Envelope.wrap(
                AvailabilityChanged(
                    person_id=helper_id,
                    neighbourhood=place.neighbourhood,
                    horizon_start=hours[0],
                    horizon_end=hours[-1],
                    free_hours=hours,
                ),
                producer="test",
            ),
            Envelope.wrap(
                StandingChanged(
                    person_id=helper_id,
                    suspended=False,
                    approved_skills={Skill.SHOPPING: place.starts_at + timedelta(days=365)},
                ),
                producer="test",
            ),
        ]
    )
    state = runtime_of(harness.app).matcher.state

    # Profiles, availability and standing travel on different topics: wait until all arrived.
    async def known() -> bool:
        helper = state.helper(place.neighbourhood, helper_id)
        return bool(helper.profile and helper.free_hours and state.standing_of(helper_id))

    await eventually(known, what="the helper's state")
    return helper_id


async def request_help(
    harness: Harness,
    place: Place,
    neighbour_id: uuid.UUID | None = None,
    languages: list[str] | None = None,
) -> Envelope[HelpRequested]:
    envelope = Envelope.wrap(
        HelpRequested(
            request_id=uuid.uuid4(),
            series_id=uuid.uuid4(),
            occurrence=1,
            occurrences=1,
            neighbour_id=neighbour_id or uuid.uuid4(),
            neighbourhood=place.neighbourhood,
            cell=place.cell,
            skill=Skill.SHOPPING,
            starts_at=place.starts_at,
            hours=2,
            languages=languages or [],
        ),
        producer="test",
    )
    await harness.publisher.publish(envelope)
    return envelope


async def batches_keyed(
    bootstrap: str, topic: str, key: bytes, since: Mapping[int, int]
) -> list[list[int]]:
    """The record batches on ``topic`` from offset ``since[partition]`` of each partition on
    that hold records keyed ``key``, as the broker stores them: for each, the offsets of those
    records. (Other tests put what they like on the shared topics before ``since``.)"""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    found: list[list[int]] = []
    try:
        await client.add_topic(topic)
        for partition, offset in sorted(since.items()):
            node = client.cluster.leader_for_partition(TopicPartition(topic, partition))
            while True:
                request = FetchRequest(10, 1, _PAGE, 0, [(topic, [(partition, offset, _PAGE)])])
                response = await client.send(node, request)
                [(_, [(_, error, end, *_, raw)])] = response.topics
                assert error == 0, f"fetch {topic}[{partition}] at {offset}: error {error}"
                if offset >= end:
                    break
                records, start = MemoryRecords(raw), offset
                while records.has_next():
                    batch = records.next_batch()
                    ours = [record.offset for record in batch if record.key == key]
                    if ours:
                        found.append(ours)
                    offset = batch.next_offset
                if offset == start:
                    raise AssertionError(f"fetch {topic}[{partition}] at {offset} of {end}: none")
    finally:
        await client.close()
    return found
