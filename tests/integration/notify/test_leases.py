"""Notices are leased, and each outcome is committed the moment it is known.

A notify process killed mid-batch must send again only what it had in flight: so a sent
notice is on record before the batch ends, a notice the sender did not get to is given back
at once, and one a dead sender held is taken again when its lease ends, not before.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.notify.adapters.postgres import PostgresStore
from services.notify.bootstrap import MIGRATIONS
from services.notify.domain.notices import Channel, Kind, Notice
from shared.postgres import apply_migrations, connect_pool, ensure_database
from tests.conftest import Stack
from tests.integration.notify.conftest import fresh_database

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def pool(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    url = fresh_database(stack.database_url)
    await ensure_database(url)
    pool = await connect_pool(url)
    await apply_migrations(pool, MIGRATIONS)
    try:
        yield pool
    finally:
        await pool.close()


def _notice(minutes_ago: int) -> Notice:
    due = NOW - timedelta(minutes=minutes_ago)
    return Notice(uuid.uuid4(), uuid.uuid4(), Kind.BOOKING_CONFIRMED, due, {}, Channel.EMAIL)


async def _status(pool: asyncpg.Pool, notice: Notice) -> str:
    return str(
        await pool.fetchval(
            "SELECT status FROM deliveries WHERE event_id = $1 AND person_id = $2",
            notice.event_id,
            notice.person_id,
        )
    )


async def _fresh(pool: asyncpg.Pool, *notices: Notice) -> PostgresStore:
    # Each test's notices only: the module's earlier ones are sent or dropped first.
    await pool.execute("UPDATE deliveries SET status = 'dropped' WHERE status = 'pending'")
    store = PostgresStore(pool, lease_s=60)
    assert await store.add_notices(list(notices)) == len(notices)
    return store


async def test_a_sent_notice_is_on_record_before_its_batch_ends(pool: asyncpg.Pool) -> None:
    first, second = _notice(10), _notice(5)
    store = await _fresh(pool, first, second)
    async with store.claim_due(NOW, 10) as batch:
        claims = {c.pending.notice.event_id: c for c in batch.claims}
        assert set(claims) == {first.event_id, second.event_id}
        await claims[first.event_id].sent(NOW)
        # Seen from another connection while the batch is still going.
        assert await _status(pool, first) == "sent"
        assert await _status(pool, second) == "pending"
        await claims[second.event_id].sent(NOW)
    assert await _status(pool, second) == "sent"


async def test_a_leased_notice_is_nobody_elses_and_one_not_reached_is_given_back(
    pool: asyncpg.Pool,
) -> None:
    first, second = _notice(10), _notice(5)
    store = await _fresh(pool, first, second)
    async with store.claim_due(NOW, 1) as batch:
        [held] = batch.claims
        assert held.pending.notice.event_id == first.event_id
        async with store.claim_due(NOW, 10) as other:
            assert [c.pending.notice.event_id for c in other.claims] == [second.event_id]
            await other.claims[0].sent(NOW)
        # The first batch ends without an outcome for its notice (stopped mid-batch).
    async with store.claim_due(NOW, 10) as again:
        assert [c.pending.notice.event_id for c in again.claims] == [first.event_id]
        assert 0 < again.claims[0].seconds_left() <= 60


async def test_a_dead_senders_notice_waits_for_its_lease_then_is_taken(
    pool: asyncpg.Pool,
) -> None:
    notice = _notice(1)
    store = await _fresh(pool, notice)
    # A sender that dies holding the notice: its batch never ends.
    dying = store.claim_due(NOW, 10)
    held = await dying.__aenter__()
    assert len(held.claims) == 1
    async with store.claim_due(NOW, 10) as meanwhile:
        assert list(meanwhile.claims) == []
    assert await store.next_due() is None, "a held notice does not wake the senders"
    # Its lease runs out (the database's time, moved back rather than waited for).
    await pool.execute(
        "UPDATE deliveries SET lease_until = now() - interval '1 second' WHERE event_id = $1",
        notice.event_id,
    )
    assert await store.next_due() == notice.due_at
    async with store.claim_due(NOW, 10) as after:
        [taken] = after.claims
        assert taken.pending.notice.event_id == notice.event_id
        await taken.sent(NOW)
    assert await _status(pool, notice) == "sent"


async def test_a_notice_recorded_sent_then_refused_at_its_end_is_due_again(
    pool: asyncpg.Pool,
) -> None:
    # An email is recorded as sent as it is handed over; the server may still refuse it.
    notice = _notice(1)
    store = await _fresh(pool, notice)
    async with store.claim_due(NOW, 10) as batch:
        [claim] = batch.claims
        await claim.sent(NOW)
        assert await _status(pool, notice) == "sent"
        await claim.retry(NOW + timedelta(seconds=2), "email: the server answered 554")
    row = await pool.fetchrow(
        "SELECT status, sent_at, attempts, due_at FROM deliveries WHERE event_id = $1",
        notice.event_id,
    )
    assert row is not None
    assert (row["status"], row["sent_at"], row["attempts"]) == ("pending", None, 1)
    assert await store.next_due() == NOW + timedelta(seconds=2)


async def test_a_hand_over_is_on_record_only_once_committed(pool: asyncpg.Pool) -> None:
    kept, dropped = _notice(2), _notice(1)
    store = await _fresh(pool, kept, dropped)
    async with store.claim_due(NOW, 10) as batch:
        claims = {claim.pending.notice.event_id: claim for claim in batch.claims}
        async with claims[kept.event_id].handing_over(NOW) as commit:
            # Written, uncommitted: a notify process killed here sends the notice again.
            assert await _status(pool, kept) == "pending"
            await commit()
        assert await _status(pool, kept) == "sent"
        with pytest.raises(RuntimeError):
            async with claims[dropped.event_id].handing_over(NOW):
                raise RuntimeError("the message never reached its end-of-data line")
        assert await _status(pool, dropped) == "pending"
    row = await pool.fetchrow(
        "SELECT sent_at, attempts FROM deliveries WHERE event_id = $1", kept.event_id
    )
    assert row is not None
    assert (row["sent_at"], row["attempts"]) == (NOW, 1)
    # Given back with the batch, for the next round to take at once.
    async with store.claim_due(NOW, 10) as again:
        assert [c.pending.notice.event_id for c in again.claims] == [dropped.event_id]
