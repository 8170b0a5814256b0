"""Transactions on booking's database: each use case runs in one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg

from services.booking.adapters.repository import Repository


class UnitOfWork:
    """Hands out repositories bound to one connection, in a transaction or not."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Repository]:
        """A repository in a transaction: committed on a clean exit, rolled back on error.

        Events written through ``Repository.publish`` go to the outbox in the same
        transaction, so a change is never saved without its event nor the other way round.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            # A pool's proxy forwards every call to its connection.
            yield Repository(cast(asyncpg.Connection, conn))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repository]:
        """A repository for reads that need no transaction."""
        async with self._pool.acquire() as conn:
            yield Repository(cast(asyncpg.Connection, conn))
