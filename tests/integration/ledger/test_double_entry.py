"""The ledger's database itself keeps the books: it refuses an unbalanced posting and any
change to what was posted, whatever Python does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from asyncpg.pool import PoolConnectionProxy

from services.ledger.bootstrap import LedgerService
from services.ledger.domain.postings import HOUR, Entry, Kind, Posting, Unbalanced
from services.ledger.service_layer import commands
from services.ledger.service_layer.ports import Refused

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


async def _raw_posting(
    conn: asyncpg.Connection | PoolConnectionProxy[Any], amounts: list[int], unit: str = HOUR
) -> uuid.UUID:
    posting_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO postings (posting_id, kind, occurred_at) VALUES ($1, 'correction', $2)",
        posting_id,
        NOW,
    )
    for n, amount in enumerate(amounts):
        account = f"test:{posting_id}:{n}"
        await conn.execute("INSERT INTO accounts (account, unit) VALUES ($1, $2)", account, unit)
        await conn.execute(
            "INSERT INTO entries (posting_id, account, unit, amount) VALUES ($1, $2, $3, $4)",
            posting_id,
            account,
            unit,
            amount,
        )
    return posting_id


async def test_the_database_refuses_an_unbalanced_posting_at_commit(ledger: LedgerService) -> None:
    async with ledger.pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
            async with conn.transaction():
                posting_id = await _raw_posting(conn, [60, -30])
        assert (
            await conn.fetchval("SELECT count(*) FROM postings WHERE posting_id = $1", posting_id)
            == 0
        )
        with pytest.raises(asyncpg.CheckViolationError, match="has no entries"):
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO postings (posting_id, kind, occurred_at)"
                    " VALUES ($1, 'correction', $2)",
                    uuid.uuid4(),
                    NOW,
                )
        async with conn.transaction():
            balanced = await _raw_posting(conn, [60, -45, -15])
        assert (
            await conn.fetchval("SELECT sum(amount) FROM entries WHERE posting_id = $1", balanced)
            == 0
        )


async def test_the_unit_of_work_raises_unbalanced_when_the_database_refuses(
    ledger: LedgerService,
) -> None:
    # A posting that slipped past Python's own check (built, then its entries swapped).
    posting = Posting(
        Kind.CORRECTION, (Entry("test:a", HOUR, 60), Entry("test:b", HOUR, -60)), occurred_at=NOW
    )
    object.__setattr__(posting, "entries", (Entry("test:a", HOUR, 60), Entry("test:b", HOUR, -59)))
    with pytest.raises(Unbalanced):
        async with ledger.unit_of_work() as uow:
            await uow.post(posting)
    async with ledger.unit_of_work() as uow:
        assert await uow.posting(posting.posting_id) is None


async def test_entries_and_postings_are_append_only(ledger: LedgerService) -> None:
    async with ledger.pool.acquire() as conn:
        async with conn.transaction():
            posting_id = await _raw_posting(conn, [60, -60])
        for statement in (
            "UPDATE entries SET amount = amount * 2 WHERE posting_id = $1",
            "DELETE FROM entries WHERE posting_id = $1",
            "UPDATE postings SET memo = 'edited' WHERE posting_id = $1",
            "DELETE FROM postings WHERE posting_id = $1",
        ):
            with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
                await conn.execute(statement, posting_id)
        with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
            await conn.execute("TRUNCATE entries CASCADE")
        assert (
            await conn.fetchval("SELECT count(*) FROM entries WHERE posting_id = $1", posting_id)
            == 2
        )


async def test_a_correction_is_a_new_posting_and_only_one_per_original(
    ledger: LedgerService,
) -> None:
    original = Posting(
        Kind.GIFT,
        (Entry("test:giver:time", HOUR, -120), Entry("test:pot", HOUR, 120)),
        occurred_at=NOW,
    )
    async with ledger.unit_of_work() as uow:
        assert await uow.post(original)
    correction = await commands.correct(
        ledger.unit_of_work, original.posting_id, memo="given twice", now=NOW
    )
    async with ledger.unit_of_work() as uow:
        assert await uow.balance("test:pot") == 0
        assert await uow.posting(original.posting_id) == original
        assert (await uow.posting(correction.posting_id)) is not None
    with pytest.raises(Refused):
        await commands.correct(ledger.unit_of_work, original.posting_id, memo="again", now=NOW)
