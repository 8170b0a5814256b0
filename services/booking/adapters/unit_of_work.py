"""Transactions on booking's database: each use case runs in one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import cast

import asyncpg

from services.booking.adapters.repository import Repository
from shared.postgres import RelayBell


class PostgresUnitOfWork:
    """Hands out repositories bound to one connection, in a transaction or not (booking's
    ``service_layer.ports.UnitOfWork``)."""

    def __init__(self, pool: asyncpg.Pool, bell: RelayBell | None = None) -> None:
        self._pool = pool
        # Rings the process's outbox relay after a commit that wrote events; without one
        # (a command), the statements that write them NOTIFY instead.
        self._bell = bell or RelayBell()
        # The connection of an enclosing ``outer`` transaction in this task, if any.
        self._current: ContextVar[asyncpg.Connection | None] = ContextVar(
            f"booking-uow-{uuid.uuid4()}", default=None
        )

    @property
    def pool(self) -> asyncpg.Pool:
        """The pool this unit of work draws connections from."""
        return self._pool

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Repository]:
        """A repository in a transaction: committed on a clean exit, rolled back on error.

        Events written through ``Repository.publish`` go to the outbox in the same
        transaction, so a change is never saved without its event nor the other way round.
        Inside ``outer`` it joins the enclosing transaction instead, so what the outer caller
        writes (an idempotency record) commits together with the change, and an error rolls
        back all of it (no savepoint: nothing goes on after a failed change).
        """
        current = self._current.get()
        if current is not None:
            yield Repository(current)
            return
        async with self._bell.after_commit(), self._pool.acquire() as conn, conn.transaction():
            # A pool's proxy forwards every call to its connection.
            yield Repository(cast(asyncpg.Connection, conn))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repository]:
        """A repository for reads, and single statements, that need no transaction (one
        statement is atomic on its own)."""
        current = self._current.get()
        if current is not None:
            yield Repository(current)
            return
        async with self._bell.after_commit(), self._pool.acquire() as conn:
            yield Repository(cast(asyncpg.Connection, conn))

    @asynccontextmanager
    async def outer(self) -> AsyncIterator[Repository]:
        """A transaction that every ``begin`` and ``read`` of this task joins until it ends.

        Inside another ``outer`` it joins that one: an audited operator action retried with
        an ``Idempotency-Key`` commits the key, the change and its audit entry together.
        """
        current = self._current.get()
        if current is not None:
            yield Repository(current)
            return
        async with self._bell.after_commit(), self._pool.acquire() as conn, conn.transaction():
            connection = cast(asyncpg.Connection, conn)
            token = self._current.set(connection)
            try:
                yield Repository(connection)
            finally:
                self._current.reset(token)
