"""Fixtures shared by every tier: the real broker and database, started once per session.

Unit tests use none of them. Integration and end-to-end tests get a Tansu broker and a
PostgreSQL server on free loopback ports, or the external ones named by
``KITH_TEST_KAFKA_BOOTSTRAP`` and ``KITH_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.messaging import ensure_topics
from shared.settings import RATE_LIMITS, Settings

#: Rate limits no test world reaches.
GENEROUS_RATES = dict.fromkeys(RATE_LIMITS, "100000000/1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group the tests for ``pytest -n 2 --dist loadgroup`` (``make test``).

    Each end-to-end test starts the whole platform, a dozen processes: two at once on a
    2-core machine starve each other past their deadlines. So every end-to-end test runs on
    one worker, one after another, while the other worker runs the rest module by module
    (a module's fixtures are set up once). The suite waits more than it computes, so the two
    halves overlap almost entirely.
    """
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        group = "e2e" if module.startswith("tests/e2e/") else module
        item.add_marker(pytest.mark.xdist_group(group))


@dataclass(frozen=True)
class Stack:
    """The broker and database every integration test talks to."""

    bootstrap: str
    database_url: str
    state_dir: Path
    broker: EmbeddedBroker | None

    def settings(self, **overrides: object) -> Settings:
        """Settings pointing at this stack, with test-specific overrides."""
        fields: dict[str, object] = {
            "kafka_bootstrap": self.bootstrap,
            "database_url": self.database_url,
            "state_dir": self.state_dir,
            # The test stack is the embedded one: secrets may be generated into state_dir.
            "development": True,
            # A test world signs many people up from one address; the rate-limit tests set
            # their own limits.
            **GENEROUS_RATES,
            **overrides,
        }
        return Settings(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stack_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state_dir = tmp_path_factory.mktemp("kith-state")
    external_kafka = os.environ.get("KITH_TEST_KAFKA_BOOTSTRAP")
    external_db = os.environ.get("KITH_TEST_DATABASE_URL")
    broker = None if external_kafka else EmbeddedBroker(log_path=state_dir / "broker.log")
    database = None if external_db else EmbeddedPostgres(state_dir / "postgres" / "data")
    if broker:
        broker.start()
    if database:
        database.start()
    try:
        yield Stack(
            bootstrap=external_kafka or (broker.bootstrap if broker else ""),
            database_url=external_db or (database.url if database else ""),
            state_dir=state_dir,
            broker=broker,
        )
    finally:
        if database:
            database.stop()
        if broker:
            broker.stop()


@pytest.fixture(scope="session")
async def stack(stack_processes: Stack) -> Stack:
    """The running stack, with every Kith topic created."""
    await ensure_topics(stack_processes.settings())
    return stack_processes


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """A folder under ``test-output/`` for what a test saves (screenshots, logs)."""
    folder = Path("test-output") / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
