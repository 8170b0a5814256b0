"""The shared consumer hands a run of one event type to its batch handler in one call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import DEAD_LETTERS, REQUESTS
from shared.messaging import DeadLetter, Delivery, EventConsumer, Publisher, read_dead_letter
from tests.conftest import Stack
from tests.support import eventually
from tests.unit.matching.factories import request

NEIGHBOURHOOD = "87195da49ffffff"


@dataclass
class Seen:
    """What each handler was given, by request id."""

    ours: set[uuid.UUID]
    singles: list[uuid.UUID] = field(default_factory=list)
    runs: list[list[uuid.UUID]] = field(default_factory=list)
    #: Request ids the batch handler refuses, and those that make the whole run fail.
    refused: set[uuid.UUID] = field(default_factory=set)
    failing: set[uuid.UUID] = field(default_factory=set)

    async def single(self, envelope: Envelope[Payload], _: Delivery) -> None:
        if getattr(envelope.data, "request_id", None) in self.ours:
            self.singles.append(envelope.data.request_id)  # type: ignore[attr-defined]

    async def batch(self, envelopes: Sequence[Envelope[Payload]]) -> list[str | None]:
        ids = [e.data.request_id for e in envelopes]  # type: ignore[attr-defined]
        if self.failing & set(ids):
            raise RuntimeError("the database went away")
        if self.ours & set(ids):
            self.runs.append([i for i in ids if i in self.ours])
        return [f"no such request {i}" if i in self.refused else None for i in ids]


def _cancelled() -> Envelope[Payload]:
    data = HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=NEIGHBOURHOOD)
    return Envelope.wrap(data, producer="test")


async def _consuming(
    stack: Stack, publisher: Publisher, seen: Seen, events: list[Envelope[Payload]]
) -> list[DeadLetter]:
    """Run a consumer from the end of the topic, publish ``events`` in one request, wait
    until every one of ours was handled; return the dead letters of ours."""
    consumer = EventConsumer(
        stack.settings(),
        name="test-batches",
        group_id=f"test-{uuid.uuid4()}",
        topics=[REQUESTS],
        handler=seen.single,
        dead_letters=publisher,
        attempts=1,
        from_beginning=False,
        batch_handlers={HelpRequestCancelled.TYPE: seen.batch},
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    dlq = AIOKafkaConsumer(
        DEAD_LETTERS.name, bootstrap_servers=stack.bootstrap, auto_offset_reset="latest"
    )
    await dlq.start()
    try:
        await asyncio.wait_for(consumer.ready.wait(), timeout=30)
        await dlq.seek_to_end()
        await publisher.publish_many(events)  # one produce request: one fetch sees them all

        async def all_handled() -> bool:
            handled = set(seen.singles) | {i for run in seen.runs for i in run}
            return seen.ours - seen.refused <= handled

        await eventually(all_handled, what="every event handled")
        letters: list[DeadLetter] = []

        async def refused_ones_dead_lettered() -> bool:
            batch = await dlq.getmany(timeout_ms=100)
            letters.extend(read_dead_letter(r) for rs in batch.values() for r in rs)
            return len([x for x in letters if x.consumer == "test-batches"]) >= len(seen.refused)

        await eventually(refused_ones_dead_lettered, what="the refused events dead-lettered")
        return [x for x in letters if x.consumer == "test-batches"]
    finally:
        await consumer.stop()
        task.cancel()
        await dlq.stop()


async def test_a_run_goes_to_the_batch_handler_in_one_call_and_refusals_are_dead_lettered(
    stack: Stack, publisher: Publisher
) -> None:
    run = [_cancelled() for _ in range(3)]
    other: Envelope[Payload] = Envelope.wrap(request(neighbourhood=NEIGHBOURHOOD), producer="test")
    after = _cancelled()
    ids = [e.data.request_id for e in run]  # type: ignore[attr-defined]
    seen = Seen(ours={*ids, after.data.request_id, other.data.request_id})  # type: ignore[attr-defined]
    seen.refused = {ids[1]}

    letters = await _consuming(stack, publisher, seen, [*run, other, after])

    assert seen.runs[0] == ids, "the three in a row went in one call, in order"
    assert other.data.request_id in seen.singles, "another type breaks the run"  # type: ignore[attr-defined]
    assert ids[0] not in seen.singles
    assert [letter.reason for letter in letters] == [
        f"rejected by handler: no such request {ids[1]}"
    ]


async def test_a_run_that_fails_is_handled_one_event_at_a_time(
    stack: Stack, publisher: Publisher
) -> None:
    run = [_cancelled() for _ in range(4)]
    ids = [e.data.request_id for e in run]  # type: ignore[attr-defined]
    seen = Seen(ours=set(ids), failing={ids[2]})

    await _consuming(stack, publisher, seen, run)

    assert seen.runs == []
    assert seen.singles == ids
