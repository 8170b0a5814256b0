"""A broker and database of their own, for the tests that start Kith's services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.e2e.support import fresh_stack


@pytest.fixture
async def own_stack(stack: Stack, tmp_path: Path) -> AsyncIterator[Stack]:
    """A fresh broker and database for one test (``fresh_stack``)."""
    async with fresh_stack(stack, tmp_path) as own:
        yield own


@pytest.fixture(scope="module")
async def module_stack(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A fresh broker and database shared by one module's tests (``fresh_stack``)."""
    async with fresh_stack(stack, tmp_path_factory.mktemp("stack")) as own:
        yield own
