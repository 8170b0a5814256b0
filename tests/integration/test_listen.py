"""A LISTEN outlives its connection: a lost one is replaced, and listeners told so."""

from __future__ import annotations

import asyncio
import uuid

from shared.postgres import ChannelListener, connect_pool
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
