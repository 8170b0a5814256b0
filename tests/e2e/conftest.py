"""A broker and database of their own, for the tests that run several workers of one group."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.messaging import ensure_topics
from tests.conftest import Stack


@pytest.fixture
async def own_stack(stack: Stack, tmp_path: Path) -> AsyncIterator[Stack]:
    """A fresh embedded broker and database (the session's external ones when configured).

    After a test stopped two matching workers of ``kith-matching`` on the shared Tansu broker,
    the next worker to join that group sometimes waited past its deadline for partitions; a
    broker of their own keeps the multi-worker tests from reaching the tests that follow.
    """
    if os.environ.get("KITH_TEST_KAFKA_BOOTSTRAP") or os.environ.get("KITH_TEST_DATABASE_URL"):
        yield stack
        return
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    database = EmbeddedPostgres(tmp_path / "postgres" / "data")
    broker.start()
    try:
        database.start()
        try:
            own = Stack(broker.bootstrap, database.url, tmp_path / "state", broker)
            await ensure_topics(own.settings())
            yield own
        finally:
            database.stop()
    finally:
        broker.stop()
