"""Matching's faust driver: messages a rebalance made it skip are fetched again, never
committed unhandled, and the changelogs of the tables it holds are not fetched once recovered.

faust's streams skip a message fetched before a rebalance (an older generation, or while the
flow is stopped for the rebalance) and acknowledge it, and faust commits past one unhandled
message at the head. Each let a commit move past requests nobody matched (``kith faults``'
matcher_kill, on both workers' partitions). Offsets a fetch jumps over never reach the
streams (``services.matching.ordering``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import faust
import pytest
from aiokafka import TopicPartition
from faust.transport.consumer import Consumer as BaseConsumer
from faust.types import TP
from faust.types.tuples import Message

from services.matching.app import create_app, runtime_of
from shared.contracts.topics import REQUESTS
from tests.conftest import Stack


def _message(offset: int, generation: int, partition: int = 0) -> Message:
    tp = TP(REQUESTS.name, partition)
    return Message(
        REQUESTS.name,
        partition,
        offset,
        0.0,
        0,
        None,
        b"k",
        b"v",
        None,
        tp=tp,
        generation_id=generation,
    )


@pytest.fixture
async def app(stack: Stack) -> AsyncIterator[faust.App]:
    app = create_app(stack.settings(), app_id=f"test-skipped-{uuid.uuid4().hex[:8]}")
    await app.start()
    try:
        await asyncio.wait_for(runtime_of(app).ready.wait(), timeout=30)
        yield app
    finally:
        await app.stop()


async def test_a_skipped_message_is_never_counted_as_handled(app: faust.App) -> None:
    consumer = cast(BaseConsumer, app.consumer)
    generation = app.consumer_generation_id
    tp = TP(REQUESTS.name, 0)

    stale = _message(1_000_001, generation - 1)
    assert not consumer.ack(stale)
    assert stale.acked, "nobody waits for it any more"
    app.flow_control.suspend()
    try:
        during = _message(1_000_002, generation)
        assert not consumer.ack(during)
    finally:
        app.flow_control.resume()
    assert 1_000_001 not in consumer._acked[tp]
    assert 1_000_002 not in consumer._acked[tp]

    handled = _message(1_000_003, generation)
    assert consumer.ack(handled)
    assert 1_000_003 in consumer._acked[tp]


async def test_an_unhandled_message_at_the_head_holds_the_commit_back(app: faust.App) -> None:
    consumer = cast(BaseConsumer, app.consumer)
    generation = app.consumer_generation_id
    tp = TP(REQUESTS.name, 1)
    consumer._committed_offset[tp] = 2_000_000  # the next message to handle

    for offset in range(2_000_001, 2_000_006):
        assert consumer.ack(_message(offset, generation, 1))
    assert consumer._new_offset(tp) is None
    # Once it is handled, everything up to the last handled one commits.
    assert consumer.ack(_message(2_000_000, generation, 1))
    assert consumer._new_offset(tp) == 2_000_006


async def test_the_changelogs_of_the_tables_a_worker_holds_are_not_fetched_once_recovered(
    app: faust.App,
) -> None:
    client = app.consumer._thread._consumer  # type: ignore[attr-defined]
    assigned, paused = client.assignment(), client.paused()
    changelogs = {table.changelog_topic.get_topic_name() for table in app.tables.values()}
    held = {tp for tp in assigned if tp.topic in changelogs}
    global_tables = {
        table.changelog_topic.get_topic_name()
        for table in app.tables.values()
        if isinstance(table, faust.GlobalTable)
    }

    assert held
    assert {tp for tp in held if tp.topic not in global_tables} <= paused
    # A global table follows its changelog for good; streams are read, of course.
    assert not {tp for tp in paused if tp.topic in global_tables}
    assert not {tp for tp in paused if tp.topic == REQUESTS.name}


async def test_a_refetch_of_a_partition_a_rebalance_took_meanwhile_is_let_go(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = cast(BaseConsumer, app.consumer)
    gone = TP(REQUESTS.name, 97)  # assigned to nobody here: seeking it is refused
    consumer._in_order.sought(gone, 10)  # type: ignore[attr-defined]
    jumped = _message(12, app.consumer_generation_id, partition=97)
    ours = 0.123  # the worker's own fetch loop asks with other timeouts
    original = BaseConsumer.getmany

    async def fetched(
        self: BaseConsumer,
        timeout: float,  # noqa: ASYNC109 (faust's signature)
    ) -> AsyncIterator[tuple[TP, Message]]:
        if timeout == ours:
            yield gone, jumped
            return
        async for item in original(self, timeout):
            yield item

    monkeypatch.setattr(BaseConsumer, "getmany", fetched)
    delivered = [message async for _, message in consumer.getmany(timeout=ours)]

    assert delivered == [], "a jump is never delivered, and the refused seek is no error"
    assert runtime_of(app).ready.is_set()


async def _look_while_idle(consumer: Any) -> list[TP]:
    consumer._handed_at_look = consumer._handed  # the test's world moves nothing meanwhile
    kicked: list[TP] = await consumer.kick_stalled()
    return kicked


async def test_a_partition_left_paused_in_the_kafka_client_is_resumed_after_a_look(
    app: faust.App,
) -> None:
    consumer: Any = app.consumer
    client = consumer._thread._consumer
    tp = TP(REQUESTS.name, 2)
    client.pause(TopicPartition(tp.topic, tp.partition))  # faust itself reads it

    assert await _look_while_idle(consumer) == []  # first seen so: it may be moving
    assert await _look_while_idle(consumer) == [tp]
    assert TopicPartition(tp.topic, tp.partition) not in client.paused()


async def test_a_partition_whose_committed_message_was_never_handled_is_read_again(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer: Any = app.consumer
    tp = TP(REQUESTS.name, 3)
    committed = consumer._committed_offset.get(tp) or 0
    consumer._committed_offset[tp] = committed
    # Handled after it, never it: the commit cannot move past it by itself.
    assert consumer.ack(_message(committed + 1, app.consumer_generation_id, 3))

    sought: list[tuple[TP, int | None]] = []
    original = consumer._in_order.sought

    def spied(tp: TP, offset: int | None) -> None:
        sought.append((tp, offset))
        original(tp, offset)

    monkeypatch.setattr(consumer._in_order, "sought", spied)

    await _look_while_idle(consumer)
    assert await _look_while_idle(consumer) == [tp]
    # Its streams expect it next: read again from there.
    assert (tp, committed) in sought
    # A busy worker is left alone: its partitions move in turn.
    consumer._handed += 1
    assert await consumer.kick_stalled() == []


async def test_the_changelogs_a_worker_paused_are_not_reported_as_never_fetched(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer: Any = app.consumer
    thread = consumer._thread
    paused = sorted(consumer._paused_partitions)
    assert paused, "a worker holding tables pauses their changelogs"
    errors: list[object] = []
    monkeypatch.setattr(thread.log, "error", lambda *args, **kwargs: errors.append(args))
    # As faust's livelock check sees them once the worker is older than its fetch timeout.
    later = thread.time_started + thread.tp_fetch_request_timeout_secs + 60

    for tp in paused:
        thread.verify_event_path(later, tp)

    assert errors == []
