"""Fixtures of the integration tier."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.messaging import Publisher
from tests.conftest import Stack


@pytest.fixture
async def publisher(stack: Stack) -> AsyncIterator[Publisher]:
    """A started publisher to the test broker (what consumers dead-letter through, too)."""
    publisher = Publisher(stack.settings(), client_id="test-integration")
    await publisher.start()
    yield publisher
    await publisher.stop()
