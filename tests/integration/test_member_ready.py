"""A group member says it is ready only once it knows where it reads each partition from."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka.consumer.fetcher import Fetcher

from shared.contracts import Envelope, Payload
from shared.messaging import Delivery, Publisher
from tests.conftest import Stack
from tests.integration.consumers import running_member


async def test_a_member_from_the_end_is_ready_only_once_every_partition_has_a_position(
    stack: Stack, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given its partitions, a member still asks where to start (its committed offsets, or
    # the ends): an event sent in between would be read past, and services wait for
    # ``ready`` before they say they serve. The asking is made slower than a read's wait
    # here, as a busy broker or machine can make it.
    looking_up = Fetcher._update_fetch_positions

    async def slowly(self: Fetcher, *args: Any) -> Any:
        await asyncio.sleep(1.0)
        return await looking_up(self, *args)

    monkeypatch.setattr(Fetcher, "_update_fetch_positions", slowly)

    async def ignore(_: Envelope[Payload], __: Delivery) -> None:
        return None

    group = f"test-ready-{uuid.uuid4().hex[:8]}"
    settings = stack.settings()
    async with running_member(settings, publisher, group, ignore, from_beginning=False) as member:
        client = member._consumer
        assignment = client._subscription.subscription.assignment
        partitions = client.assignment()
        assert partitions
        unknown = [tp for tp in partitions if not assignment.state_value(tp).has_valid_position]
        assert unknown == [], "ready before knowing where to read from"
