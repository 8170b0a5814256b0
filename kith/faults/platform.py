"""A whole Kith for one fault scenario: its own broker and database, and service processes.

The broker and the database are embedded ones this module starts (so that a scenario may
restart the broker empty), unless it is given a running broker and database (the test
session's stack), in which case it only starts services against them.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kith.faults.processes import ServiceProcess
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.messaging import ensure_topics
from shared.settings import RATE_LIMITS, Settings


class Platform:
    """A broker, a database and the service processes a scenario runs on them.

    Args:
        folder: Where logs, ready files and (embedded) data go.
        bootstrap: A running broker to use; ``None`` starts an embedded one here.
        database_url: A running PostgreSQL to use; ``None`` starts an embedded one here.
        env: ``KITH_*`` settings every service process gets (timeouts, cascade knobs).
    """

    def __init__(
        self,
        folder: Path,
        *,
        bootstrap: str | None = None,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.operator_token = secrets.token_urlsafe(16)
        # Shared by every process, as ``kith up`` shares its state folder's (and production
        # its setting): each booking process made its own in its own state folder, so a
        # client's retry reaching the other booking process was refused as "a different body".
        self._idempotency_secret = secrets.token_urlsafe(32)
        self._bootstrap = bootstrap
        self._database_url = database_url
        self._env = env or {}
        self._broker: EmbeddedBroker | None = None
        self._database: EmbeddedPostgres | None = None
        self.processes: list[ServiceProcess] = []

    @property
    def bootstrap(self) -> str:
        """The broker's address."""
        if self._broker is not None:
            return self._broker.bootstrap
        if self._bootstrap is None:
            raise RuntimeError("the platform has not started")
        return self._bootstrap

    @property
    def database_url(self) -> str:
        """The PostgreSQL server's URL (each service has its own database on it)."""
        if self._database is not None:
            return self._database.url
        if self._database_url is None:
            raise RuntimeError("the platform has not started")
        return self._database_url

    def settings(self) -> Settings:
        """Settings pointing at this platform's broker and database (for the checkers)."""
        return Settings(kafka_bootstrap=self.bootstrap, database_url=self.database_url)

    async def start(self) -> None:
        """Start what was not given, and create every topic."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._bootstrap is None:
            self._broker = EmbeddedBroker(log_path=self.folder / "logs" / "broker.log")
            await asyncio.to_thread(self._broker.start)
        if self._database_url is None:
            self._database = EmbeddedPostgres(self.folder / "postgres" / "data")
            await asyncio.to_thread(self._database.start)
        await ensure_topics(self.settings())

    async def restart_broker_empty(self) -> None:
        """Stop the embedded broker and start a new, empty one on the same port, with topics.

        Memory storage: every message, committed offset and consumer group is gone.
        """
        if self._broker is None:
            raise RuntimeError("only an embedded broker started here can be restarted")
        port = self._broker.port
        await asyncio.to_thread(self._broker.stop)
        self._broker = EmbeddedBroker(port=port, log_path=self.folder / "logs" / "broker.log")
        await asyncio.to_thread(self._broker.start)
        await ensure_topics(self.settings())

    async def kill_database(self) -> None:
        """SIGKILL the embedded PostgreSQL, as a crash would."""
        if self._database is None:
            raise RuntimeError("only a database started here can be killed")
        await asyncio.to_thread(self._database.kill)

    async def start_database(self) -> None:
        """Start the embedded PostgreSQL again on its port, with its data (crash recovery)."""
        if self._database is None:
            raise RuntimeError("only a database started here can be started again")
        await asyncio.to_thread(self._database.start)

    def add(
        self,
        service: str,
        *,
        name: str | None = None,
        http: bool = False,
        env: dict[str, str] | None = None,
    ) -> ServiceProcess:
        """A process of ``service`` (not started); ``http`` gives it a free port of its own."""
        process_env = {
            "KITH_KAFKA_BOOTSTRAP": self.bootstrap,
            "KITH_DATABASE_URL": self.database_url,
            "KITH_OPERATOR_TOKEN": self.operator_token,
            "KITH_IDEMPOTENCY_KEY_SECRET": self._idempotency_secret,
            # A scenario's own local stack: the development mode, secrets made in its folder,
            # and rate limits its crowd from one address never reaches.
            "KITH_DEVELOPMENT": "true",
            **{f"KITH_{name.upper()}": "100000000/1" for name in RATE_LIMITS},
            # Logs a scenario may read back (matching says which partitions it was given).
            "KITH_LOG_FORMAT": "json",
            **self._env,
            **(env or {}),
        }
        if http:
            process_env["KITH_HTTP_PORT"] = str(free_port())
        process = ServiceProcess(name or service, service, self.folder, process_env)
        self.processes.append(process)
        return process

    async def start_all(self, *processes: ServiceProcess) -> None:
        """Start processes side by side and wait until each is ready."""
        for process in processes:
            process.start()
        await asyncio.gather(*(process.wait_ready() for process in processes))

    async def close(self) -> None:
        """Stop the services (cleanly), then the broker and the database."""
        await asyncio.gather(*(process.stop() for process in self.processes))
        if self._broker is not None:
            await asyncio.to_thread(self._broker.stop)
        if self._database is not None:
            await asyncio.to_thread(self._database.stop)


@asynccontextmanager
async def platform(
    folder: Path,
    *,
    bootstrap: str | None = None,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Platform]:
    """A started platform, closed on the way out whatever happened."""
    running = Platform(folder, bootstrap=bootstrap, database_url=database_url, env=env)
    try:
        await running.start()
        yield running
    finally:
        await running.close()
