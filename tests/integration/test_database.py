"""Several processes of one service starting at once on a fresh server create its database once."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from shared.postgres import close_pool, connect_pool, ensure_database
from tests.conftest import Stack
from tests.support import eventually, new_database


async def test_processes_starting_together_create_the_database_once_without_error(
    stack: Stack,
) -> None:
    url = stack.settings().database_for(f"race_{uuid.uuid4().hex[:8]}")

    created = await asyncio.gather(*(ensure_database(url) for _ in range(6)))

    assert created.count(True) == 1
    assert await ensure_database(url) is False


async def test_a_table_filled_from_empty_is_analysed_within_seconds(stack: Stack) -> None:
    url = await new_database(stack.settings(), "growth")
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


async def test_a_pool_closes_within_its_bound_while_a_connection_is_never_released(
    stack: Stack,
) -> None:
    url = await new_database(stack.settings(), "held")
    pool = await connect_pool(url, min_size=1, max_size=2)
    await pool.acquire()  # and never handed back, as a task stuck on a dead server
    began = asyncio.get_running_loop().time()

    await close_pool(pool, timeout_s=0.5)

    assert asyncio.get_running_loop().time() - began < 5

    async def no_backend_left() -> bool:
        return not await backends_on(url)

    await eventually(no_backend_left, timeout_s=10, interval_s=0.1, what="the backends to end")


async def backends_on(url: str) -> int:
    """Backends connected to the database of ``url``, seen from the server's catalogue."""
    parts = urlsplit(url)
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        return int(
            await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                parts.path.lstrip("/"),
            )
        )
    finally:
        await admin.close()
