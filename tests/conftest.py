"""Fixtures shared by every tier: the real broker and database, started once per session.

Unit tests use none of them. Integration and end-to-end tests get a Tansu broker and a
PostgreSQL server on free loopback ports, or the external ones named by
``KITH_TEST_KAFKA_BOOTSTRAP`` and ``KITH_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.messaging import ensure_topics
from shared.settings import RATE_LIMITS, Settings

#: Rate limits no test world reaches.
GENEROUS_RATES = dict.fromkeys(RATE_LIMITS, "100000000/1")


@pytest.hookimpl(tryfirst=True)  # before xdist turns the groups into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group and order the tests for ``pytest -n 3 --dist loadgroup`` (``make test``).

    A module's tests stay together on one worker, so that its module fixtures are set up
    once; an end-to-end test that starts its own Kith is a group of its own, so that the
    long ones spread over the workers. End-to-end tests keep both cores busy while the
    others mostly wait on the broker, so the order interleaves the two kinds: each worker
    alternates between them instead of all running end-to-end tests at once.
    """
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        alone = module.startswith("tests/e2e/") and not _shares_module_fixtures(item)
        group = item.nodeid if alone else module
        item.add_marker(pytest.mark.xdist_group(group))
        units.setdefault(group, []).append(item)
    end_to_end = [unit for group, unit in units.items() if group.startswith("tests/e2e/")]
    others = [unit for group, unit in units.items() if not group.startswith("tests/e2e/")]
    ordered: list[pytest.Item] = []
    for index in range(max(len(end_to_end), len(others))):
        for kind in (end_to_end, others):
            if index < len(kind):
                ordered.extend(kind[index])
    items[:] = ordered


def _shares_module_fixtures(item: pytest.Item) -> bool:
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return False
    return any(defs[-1].scope == "module" for defs in fixtures.name2fixturedefs.values())


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


@pytest.fixture(autouse=True)
def _the_worker_broker_outlives_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test during which the worker's shared broker died, and start it again.

    Every later test on the worker would fail on a dead broker, far from the cause; this
    names the test it died under, and how it ended, and lets the rest run.
    """
    yield
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack_processes")
    broker = stack.broker
    if broker is None or broker.alive():
        return
    code = broker.exit_code
    broker.start()
    # Its topics were in memory: create them again, in a thread of its own (a test's event
    # loop may still be set on this one).
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, ensure_topics(stack.settings())).result()
    pytest.fail(f"the test worker's broker ended during this test (exit code {code}); restarted")


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """A folder under ``test-output/`` for what a test saves (screenshots, logs)."""
    folder = Path("test-output") / str(request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
