"""A LISTEN outlives its connection: a lost one is replaced, and listeners told so."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg
import pytest

from shared.postgres import ChannelListener, close_pool, connect_pool
from tests.conftest import Stack
from tests.support import eventually


async def test_notifications_are_heard_again_after_the_connection_is_lost(stack: Stack) -> None:
    channel = f"test_{uuid.uuid4().hex[:12]}"
    heard: list[str] = []
    listens = 0

    def started() -> None:
        nonlocal listens
        listens += 1

    pool = await connect_pool(stack.database_url, min_size=1, max_size=4)
    listener = ChannelListener(pool, {channel: heard.append}, on_listen=started)
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.listening.wait(), timeout=10)
        await pool.execute("SELECT pg_notify($1, 'first')", channel)
        await eventually(lambda: asyncio.sleep(0, heard == ["first"]), what="the first notice")

        await pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1",
            f'LISTEN "{channel}"',
        )
        await eventually(lambda: asyncio.sleep(0, listens == 2), what="listening again")
        await pool.execute("SELECT pg_notify($1, 'second')", channel)
        await eventually(
            lambda: asyncio.sleep(0, heard == ["first", "second"]), what="the second notice"
        )
    finally:
        listener.stop()
        await task
        await pool.close()


async def test_a_connection_left_mid_operation_is_dropped_and_listening_goes_on(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a connection says when the server died while it was in the middle of something.
    left: list[asyncpg.Connection] = []
    listen = asyncpg.Connection.add_listener

    async def left_mid_operation(
        conn: asyncpg.Connection, channel: str, callback: Callable[..., None]
    ) -> None:
        if not left:
            left.append(conn)
            raise asyncpg.InternalClientError(
                "cannot switch to state 11; another operation (2) is in progress"
            )
        await listen(conn, channel, callback)

    monkeypatch.setattr(asyncpg.Connection, "add_listener", left_mid_operation)
    channel = f"test_{uuid.uuid4().hex[:12]}"
    heard: list[str] = []
    pool = await connect_pool(stack.database_url, min_size=1, max_size=4)
    listener = ChannelListener(pool, {channel: heard.append})
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.listening.wait(), timeout=10)
        assert left[0].is_closed(), "the broken connection was not handed back to be reused"
        await pool.execute("SELECT pg_notify($1, 'heard')", channel)
        await eventually(lambda: asyncio.sleep(0, heard == ["heard"]), what="the notice")
    finally:
        listener.stop()
        await task
        await close_pool(pool, timeout_s=5)
