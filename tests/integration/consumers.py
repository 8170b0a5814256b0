"""A shared consumer running on ``kith.requests.v1`` for the length of a ``with`` block."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from shared.contracts.topics import REQUESTS
from shared.messaging import EventConsumer, Handler, Publisher
from shared.settings import Settings


@asynccontextmanager
async def running_member(
    settings: Settings, publisher: Publisher, group: str, handler: Handler, **options: Any
) -> AsyncIterator[EventConsumer]:
    """A group member that has its partitions, stopped (committing) when the block ends."""
    member = EventConsumer(
        settings,
        name=group,
        group_id=group,
        topics=[REQUESTS],
        handler=handler,
        dead_letters=publisher,
        **options,
    )
    await member.start()
    task = asyncio.create_task(member.run())
    try:
        await asyncio.wait_for(member.ready.wait(), timeout=30)
        yield member
    finally:
        await member.stop()
        await task
