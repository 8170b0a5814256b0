"""The outbox publishes exactly what was committed, in order, and a restart loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from shared.contracts import Envelope, decode
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import REQUESTS
from shared.embedded import EmbeddedPostgres
from shared.geo import neighbourhood_of
from shared.messaging import Publisher
from shared.postgres import (
    OUTBOX_CHANNEL,
    RELAY_LOCK_ID,
    OutboxRelay,
    RelayBell,
    add_to_outbox,
    apply_migrations,
    change_with_events,
    connect_pool,
    ensure_database,
)
from shared.problems import DATABASE_AWAY
from tests.conftest import Stack
from tests.support import eventually


@pytest.fixture
async def pool(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    url = stack.database_url.rsplit("/", 1)[0] + f"/kith_outbox_{uuid.uuid4().hex[:8]}"
    await ensure_database(url)
    pool = await connect_pool(url, min_size=1, max_size=4)
    await apply_migrations(pool)
    yield pool
    await pool.close()


async def _commit(pool: asyncpg.Pool, events: list[Envelope[HelpRequestCancelled]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await add_to_outbox(cast(asyncpg.Connection, conn), events)


async def test_committed_events_are_published_in_order_and_rolled_back_ones_never(
    stack: Stack, pool: asyncpg.Pool
) -> None:
    settings = stack.settings()
    # A neighbourhood of its own, so this test reads only its own events.
    neighbourhood = neighbourhood_of(-33.0 - uuid.uuid4().int % 1000 / 1000, 151.0)
    events = [
        Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood),
            producer="test",
        )
        for _ in range(60)
    ]
    rolled_back = Envelope.wrap(
        HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood),
        producer="test",
    )
    publisher = Publisher(settings, client_id="test-outbox")
    await publisher.start()
    consumer = AIOKafkaConsumer(
        REQUESTS.name,
        bootstrap_servers=stack.bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    try:
        # The first half is published by a relay that is then stopped, as a crash would.
        await _commit(pool, events[:30])
        first = OutboxRelay(pool, publisher, poll_s=0.05)
        assert await first.publish_pending() == 30

        with contextlib.suppress(RuntimeError):
            async with pool.acquire() as conn, conn.transaction():
                await add_to_outbox(cast(asyncpg.Connection, conn), [rolled_back])
                raise RuntimeError("the change failed, so its event must not exist")
        await _commit(pool, events[30:])

        second = OutboxRelay(pool, publisher, poll_s=0.05)
        task = asyncio.create_task(second.run())
        seen: list[uuid.UUID] = []

        async def all_seen() -> bool:
            batch = await consumer.getmany(timeout_ms=100)
            for records in batch.values():
                for record in records:
                    if record.key == neighbourhood.encode():
                        seen.append(decode(record.value).event_id)
            return len(seen) >= len(events)

        await eventually(all_seen, what="every committed event on the topic")
        second.stop()
        await task

        assert seen == [event.event_id for event in events], "all, once each, in commit order"
        assert rolled_back.event_id not in seen
        unpublished = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert unpublished == 0
    finally:
        await consumer.stop()
        await publisher.stop()


async def test_a_change_with_events_writes_both_or_neither(pool: asyncpg.Pool) -> None:
    def cancelled() -> Envelope[HelpRequestCancelled]:
        event = HelpRequestCancelled(
            request_id=uuid.uuid4(), neighbourhood=neighbourhood_of(51.5, 0)
        )
        return Envelope.wrap(event, producer="test")

    change = "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)"
    applied = uuid.uuid4()
    kept = [cancelled(), cancelled()]
    refused = cancelled()
    await change_with_events(pool, change, ["test", applied], kept)
    # The same change again breaks the inbox's primary key: its event must not exist.
    with pytest.raises(asyncpg.UniqueViolationError):
        await change_with_events(pool, change, ["test", applied], [refused])

    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", applied) == 1
    written = await pool.fetch("SELECT event_id FROM outbox ORDER BY id")
    assert [row["event_id"] for row in written] == [event.event_id for event in kept]


async def test_a_relay_whose_connection_is_cut_listens_again_and_misses_nothing(
    stack: Stack, pool: asyncpg.Pool
) -> None:
    settings = stack.settings()
    neighbourhood = neighbourhood_of(-35.0 - uuid.uuid4().int % 1000 / 1000, 149.0)

    def cancelled() -> Envelope[HelpRequestCancelled]:
        return Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood),
            producer="test",
        )

    publisher = Publisher(settings, client_id="test-outbox-listen")
    await publisher.start()
    # No poll within the test: only a NOTIFY heard on a live connection publishes.
    relay = OutboxRelay(pool, publisher, poll_s=3600)
    running = asyncio.create_task(relay.run())
    try:

        async def published(count: int) -> bool:
            return relay.published == count

        await _commit(pool, [cancelled()])
        await eventually(lambda: published(1), what="the first event, on NOTIFY")
        cut = await pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )
        assert cut == 1, "the relay's listening connection"
        await _commit(pool, [cancelled()])
        await eventually(lambda: published(2), what="the next event, heard on a new connection")
        assert not running.done()
    finally:
        relay.stop()
        await asyncio.wait_for(running, timeout=10)
        await publisher.stop()


class _Heard:
    """The payloads of every NOTIFY on the relays' channel, heard on a connection of its own."""

    def __init__(self) -> None:
        self.payloads: list[str] = []

    def __call__(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self.payloads.append(str(payload))


@contextlib.asynccontextmanager
async def _listening(pool: asyncpg.Pool) -> AsyncIterator[_Heard]:
    heard = _Heard()
    async with pool.acquire() as conn:
        await conn.add_listener(OUTBOX_CHANNEL, heard)
        try:
            yield heard
        finally:
            await conn.remove_listener(OUTBOX_CHANNEL, heard)


def _cancellations(lat: float, lng: float) -> Callable[[], Envelope[HelpRequestCancelled]]:
    """Events of a neighbourhood of the test's own near (lat, lng)."""
    neighbourhood = neighbourhood_of(lat - uuid.uuid4().int % 1000 / 1000, lng)

    def cancelled() -> Envelope[HelpRequestCancelled]:
        event = HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood)
        return Envelope.wrap(event, producer="test")

    return cancelled


@contextlib.asynccontextmanager
async def _running_relay(
    stack: Stack, pool: asyncpg.Pool, bell: RelayBell | None = None
) -> AsyncIterator[tuple[OutboxRelay, asyncio.Task[None]]]:
    """A relay running on ``pool``, listening; no poll within a test, so only its bell or a
    NOTIFY publishes."""
    publisher = Publisher(stack.settings(), client_id=f"test-outbox-{uuid.uuid4().hex[:8]}")
    await publisher.start()
    relay = OutboxRelay(pool, publisher, poll_s=3600, bell=bell)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _listening_relay(relay), what="the relay, running")
        yield relay, running
    finally:
        relay.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, timeout=10)
        await publisher.stop()


async def test_a_commit_in_the_relays_own_process_rings_it_and_sends_no_notify(
    stack: Stack, pool: asyncpg.Pool
) -> None:
    cancelled = _cancellations(-36.0, 148.0)
    bell = RelayBell()
    async with _running_relay(stack, pool, bell) as (relay, _), _listening(pool) as heard:
        async with bell.after_commit(), pool.acquire() as conn, conn.transaction():
            await add_to_outbox(cast(asyncpg.Connection, conn), [cancelled()])
        await eventually(lambda: _published(relay, 1), what="the event, on the bell")
        # Written where no bell rings, the next one is announced by NOTIFY. Notices arrive
        # in commit order: had the first commit sent one, it would be heard first.
        await _commit(pool, [cancelled()])
        await eventually(lambda: _published(relay, 2), what="the next event, on NOTIFY")
        await eventually(lambda: _heard(heard, 1), what="the second commit's NOTIFY")
        assert heard.payloads == [""], "the first commit sent none"


async def test_a_rung_relay_that_finds_another_publishing_tells_it_by_notify(
    stack: Stack, pool: asyncpg.Pool
) -> None:
    cancelled = _cancellations(-37.0, 147.0)
    bell = RelayBell()
    async with _running_relay(stack, pool, bell) as (relay, _):
        async with _listening(pool) as heard, pool.acquire() as other, other.transaction():
            # Another process's relay, publishing: it holds the lock.
            await other.execute("SELECT pg_advisory_xact_lock($1)", RELAY_LOCK_ID)
            async with bell.after_commit(), pool.acquire() as conn, conn.transaction():
                await add_to_outbox(cast(asyncpg.Connection, conn), [cancelled()])
            await eventually(lambda: _heard(heard, 1), what="the rung relay's NOTIFY")
            assert heard.payloads[0] != "", "named, so that it does not wake its sender"
            assert relay.published == 0
        # The lock free again, the relay publishes it on its next look.
        await eventually(lambda: _published(relay, 1), what="the event, once the lock is free")


async def _published(relay: OutboxRelay, count: int) -> bool:
    return relay.published == count


async def _heard(heard: _Heard, count: int) -> bool:
    return len(heard.payloads) >= count


async def _listening_relay(relay: OutboxRelay) -> bool:
    return relay.listening.is_set()


async def test_a_relay_outlives_its_database_crashing_and_publishes_after_it(
    stack: Stack, tmp_path: Path
) -> None:
    # A server of its own: a crash takes every connection down, abruptly, mid-operation.
    database = EmbeddedPostgres(tmp_path / "postgres" / "data")
    database.start()
    cancelled = _cancellations(-38.0, 146.0)
    pool = await connect_pool(database.url, min_size=4, max_size=4)
    try:
        await apply_migrations(pool)
        async with _running_relay(stack, pool) as (relay, running):
            await _commit(pool, [cancelled()])
            await eventually(lambda: _published(relay, 1), what="the first event")
            database.kill()
            database.start()

            async def committed_again() -> bool:
                with contextlib.suppress(*DATABASE_AWAY):
                    await _commit(pool, [cancelled()])
                    return True
                return False

            await eventually(committed_again, what="a commit once the database is back")
            await eventually(lambda: _published(relay, 2), what="the event committed after it")
            assert not running.done(), "the relay runs on"
    finally:
        await pool.close()
        database.stop()
