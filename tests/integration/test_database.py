"""Several processes of one service starting at once on a fresh server create its database once."""

from __future__ import annotations

import asyncio
import uuid

from shared.postgres import ensure_database
from tests.conftest import Stack


async def test_processes_starting_together_create_the_database_once_without_error(
    stack: Stack,
) -> None:
    url = stack.settings().database_for(f"race_{uuid.uuid4().hex[:8]}")

    created = await asyncio.gather(*(ensure_database(url) for _ in range(6)))

    assert created.count(True) == 1
    assert await ensure_database(url) is False
