"""A group member says it is ready only once it knows where it reads each partition from."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka.consumer.fetcher import Fetcher

from shared.contracts import Envelope, Payload
from shared.contracts.topics import REQUESTS
from shared.messaging import Delivery, EventConsumer, Publisher
from tests.conftest import Stack
from tests.support import eventually


async def test_a_member_from_the_end_is_ready_only_once_every_partition_has_a_position(
    stack: Stack, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given its partitions, a member still asks where to start (its committed offsets, or
    # the ends): an event sent in between would be read past, and services wait for
    # ``ready`` before they say they serve. Here the asking is held until the member has
    # read with its partitions, as a busy broker or machine can make it.
    answer = asyncio.Event()
    looking_up = Fetcher._update_fetch_positions

    async def held(self: Fetcher, *args: Any) -> Any:
        await answer.wait()
        return await looking_up(self, *args)

    monkeypatch.setattr(Fetcher, "_update_fetch_positions", held)

    async def ignore(_: Envelope[Payload], __: Delivery) -> None:
        return None

    group = f"test-ready-{uuid.uuid4().hex[:8]}"
    member = EventConsumer(
        stack.settings(),
        name=group,
        group_id=group,
        topics=[REQUESTS],
        handler=ignore,
        dead_letters=publisher,
        from_beginning=False,
    )
    await member.start()
    client = member._consumer
    reads_with_partitions = 0
    read = client.getmany

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads_with_partitions
        batches = await read(*args, **kwargs)
        reads_with_partitions += bool(client.assignment())
        return batches

    monkeypatch.setattr(client, "getmany", counting)
    task = asyncio.create_task(member.run())
    try:
        await eventually(
            lambda: asyncio.sleep(0, reads_with_partitions >= 1), what="a read with partitions"
        )
        assert not member.ready.is_set(), "ready before knowing where to read from"

        answer.set()
        await asyncio.wait_for(member.ready.wait(), timeout=30)
        assignment = client._subscription.subscription.assignment
        partitions = client.assignment()
        assert partitions
        unknown = [tp for tp in partitions if not assignment.state_value(tp).has_valid_position]
        assert unknown == []
    finally:
        answer.set()
        await member.stop()
        await task
