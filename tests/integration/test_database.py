"""Several processes of one service starting at once on a fresh server create its database once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from services.booking.bootstrap import open_pool
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


@pytest.mark.parametrize("opener", ["connect_pool", "booking"])
async def test_a_pooled_connection_knows_every_array_type_kith_passes_before_its_first_statement(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, opener: str
) -> None:
    """asyncpg looks up an array type it does not know with a query that costs the server
    milliseconds to plan; a statement in a request's path must not be the one to pay it."""
    url = await new_database(stack.settings(), "arrays")
    pool = await (connect_pool(url, min_size=1) if opener == "connect_pool" else open_pool(url))
    looked_up: list[set[int]] = []
    introspect = asyncpg.Connection._introspect_types  # type: ignore[attr-defined]  # private

    async def counted(self: asyncpg.Connection, oids: set[int], *rest: Any) -> Any:
        looked_up.append(set(oids))
        return await introspect(self, oids, *rest)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counted)
    try:
        async with pool.acquire() as conn:
            for kind in ("uuid[]", "int[]", "bigint[]", "timestamptz[]", "jsonb[]", "bytea[]"):
                assert await conn.fetchval(f"SELECT cardinality($1::{kind})", []) == 0
    finally:
        await close_pool(pool)

    assert looked_up == []
