"""Plain-SQL migrations, applied once each, in name order, under an advisory lock."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg

# Two processes of one service may start together; the lock makes one wait for the other.
_LOCK_ID = 0x6B697468  # "kith"


def _scripts(package: str) -> list[Traversable]:
    folder = resources.files(package)
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )


async def apply_migrations(pool: asyncpg.Pool, *packages: str) -> list[str]:
    """Apply every ``*.sql`` file of ``packages`` not yet applied; return the names applied.

    Kith's shared tables (outbox, inbox) come first, then each package in the order given.
    """
    applied: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
        for package in ("shared.postgres.sql", *packages):
            for script in _scripts(package):
                name = f"{package}:{script.name}"
                if name in done:
                    continue
                await conn.execute(script.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
    return applied
