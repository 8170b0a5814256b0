"""Creating a service's database and opening its pool."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


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


async def connect_pool(url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    """A connection pool on the service's database."""
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
    assert pool is not None
    return pool
