"""Several processes of one service starting at once on a fresh server create its database once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from shared.postgres import ensure_database
from tests.conftest import Stack
from tests.support import eventually


async def test_processes_starting_together_create_the_database_once_without_error(
    stack: Stack,
) -> None:
    url = stack.settings().database_for(f"race_{uuid.uuid4().hex[:8]}")

    created = await asyncio.gather(*(ensure_database(url) for _ in range(6)))

    assert created.count(True) == 1
    assert await ensure_database(url) is False


async def test_a_table_filled_from_empty_is_analysed_within_seconds(stack: Stack) -> None:
    url = stack.settings().database_for(f"growth_{uuid.uuid4().hex[:8]}")
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE growing (id bigint PRIMARY KEY)")
        await conn.execute("INSERT INTO growing SELECT generate_series(1, 2000)")

        async def analysed() -> bool:
            return bool(
                await conn.fetchval(
                    "SELECT last_autoanalyze IS NOT NULL FROM pg_stat_user_tables"
                    " WHERE relname = 'growing'"
                )
            )

        # The embedded server's autovacuum comes round every 10 s (the default is a minute).
        await eventually(analysed, timeout_s=40, interval_s=0.5, what="autoanalyze")
    finally:
        await conn.close()
