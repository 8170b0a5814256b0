"""Creating a service's database and opening its pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog

log = structlog.get_logger(__name__)

#: How long a stopping service waits for its connections to be handed back.
POOL_CLOSE_TIMEOUT_S = 10.0


async def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if the server lacks it; True when created."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        try:
            # Identifiers cannot be parameters; the name comes from settings, quoted here.
            await admin.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')
        except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
            # Another process of the same service created it first: PostgreSQL says so as a
            # duplicate database, or, when both ran CREATE DATABASE at once, as a duplicate
            # key in its catalogue.
            return False
        return True
    finally:
        await admin.close()


#: The array types Kith's statements pass. asyncpg decodes few array types without asking the
#: server: the first time a connection meets any other, it looks the type up in the catalogue
#: with a query the server takes milliseconds to plan (a dozen accepts' worth of its work),
#: once per type and connection, in the path of whichever request came first.
_ARRAY_TYPES = ("uuid[]", "int4[]", "int8[]", "timestamptz[]", "jsonb[]", "bytea[]")
_KNOW_ARRAY_TYPES = "SELECT " + ", ".join(
    f"${index}::{kind}" for index, kind in enumerate(_ARRAY_TYPES, start=1)
)


async def know_array_types(conn: asyncpg.Connection) -> None:
    """Look up every array type Kith passes in one query as a connection opens (a pool's
    ``init``), instead of one query per type in the requests that first use each."""
    await conn.prepare(_KNOW_ARRAY_TYPES)


async def connect_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 20,
    reset: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> asyncpg.Pool:
    """A connection pool on the service's database; ``reset`` replaces asyncpg's reset of a
    connection handed back (its default when None)."""
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=know_array_types, reset=reset
    )
    assert pool is not None
    return pool


async def close_pool(pool: asyncpg.Pool, *, timeout_s: float = POOL_CLOSE_TIMEOUT_S) -> None:
    """Close ``pool`` gracefully, or within ``timeout_s`` by force.

    ``Pool.close`` waits for every connection to be handed back, for ever. After the server
    was killed, a connection whose protocol was left mid-operation ("another operation is in
    progress") is never handed back, and a booking stopping so that its supervisor would
    start it again waited on it and never ended.
    """
    try:
        await asyncio.wait_for(pool.close(), timeout=timeout_s)
    except TimeoutError:
        log.warning("connections not handed back: closing them", timeout_s=timeout_s)
        pool.terminate()
