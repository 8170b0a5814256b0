"""``kith up``: the embedded broker and database, the topics, and the services as separate
processes, with their logs prefixed by service. Ctrl-C stops everything.

A service may run as several processes (``--replicas booking=2,matching=2``): booking's share
one HTTP port (``SO_REUSEPORT``) and their consumer group; matching's split the neighbourhood
partitions between them. Each process serves its own Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from shared import clock
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, PortInUse, free_port, require_free
from shared.messaging import ensure_topics
from shared.secrets import state_secret
from shared.settings import Settings

SERVICES = ("booking", "matching", "trust", "ops", "partners")
_COLOURS = {
    "booking": "cyan",
    "matching": "magenta",
    "trust": "green",
    "ops": "yellow",
    "partners": "blue",
    "kith": "bold",
}
#: Services that can run as more than one process.
SCALABLE = frozenset({"booking", "matching"})
_READY_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 15.0


class SupervisorError(RuntimeError):
    """Kith could not start: the message says why and what to do."""


def instance_names(services: tuple[str, ...], replicas: dict[str, int]) -> list[str]:
    """The name of every process ``kith up`` starts: ``booking``, ``booking-2``, ..."""
    names: list[str] = []
    for service in services:
        names.append(service)
        names.extend(f"{service}-{n}" for n in range(2, replicas.get(service, 1) + 1))
    return names


def parse_replicas(text: str) -> dict[str, int]:
    """``"booking=2,matching=2"`` as a mapping; ``SupervisorError`` saying what is wrong."""
    replicas: dict[str, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, _, count = part.partition("=")
        if name not in SCALABLE:
            raise SupervisorError(
                f"--replicas: {name!r} cannot run as several processes; "
                f"choose from {sorted(SCALABLE)}"
            )
        if not count.isdigit() or not 1 <= int(count) <= 8:
            raise SupervisorError(f"--replicas: {part!r} needs a count from 1 to 8")
        replicas[name] = int(count)
    return replicas


@dataclass(eq=False)  # compared by identity: each is one running process
class _Child:
    name: str
    process: asyncio.subprocess.Process
    ready_file: Path
    pump: asyncio.Task[None] | None = field(default=None)


class Supervisor:
    """Owns every process ``kith up`` starts, and stops them all on the way out."""

    def __init__(
        self,
        settings: Settings,
        *,
        services: tuple[str, ...] = SERVICES,
        replicas: dict[str, int] | None = None,
        console: Console | None = None,
    ) -> None:
        unknown = set(services) - set(SERVICES)
        if unknown:
            raise SupervisorError(f"unknown service(s) {sorted(unknown)}; choose from {SERVICES}")
        self._settings = settings
        self._services = services
        self._replicas = replicas or {}
        self._metrics: dict[str, int] = {}
        self._console = console or Console(highlight=False, soft_wrap=True)
        self._state = settings.state_dir.resolve()
        self._broker: EmbeddedBroker | None = None
        self._database: EmbeddedPostgres | None = None
        self._children: list[_Child] = []

    async def run(self, *, demo: bool = False) -> int:
        """Start everything, wait for Ctrl-C (or a service dying), then stop everything."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        started = time.monotonic()
        try:
            env = await self._start_infrastructure()
            await self._start_services(env)
            await self._wait_ready(stop)
            if stop.is_set():
                return 130
            self._say_ready(time.monotonic() - started)
            if demo:
                from kith.demo import run_demo

                await run_demo(
                    self._api_url,
                    operator_token=env["KITH_OPERATOR_TOKEN"],
                    kafka_bootstrap=env["KITH_KAFKA_BOOTSTRAP"],
                )
            died = asyncio.ensure_future(self._first_death())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({died, stopped}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (died, stopped):
                waiter.cancel()
            dead = [child.name for child in self._children if child.process.returncode is not None]
            if dead:
                self._log("kith", f"[red]{', '.join(dead)} stopped unexpectedly; stopping Kith[/]")
                return 1
            return 0
        except PortInUse as error:
            raise SupervisorError(str(error)) from error
        finally:
            await self._stop_all()

    @property
    def _api_url(self) -> str:
        return f"http://{self._settings.http_host}:{self._settings.http_port}"

    async def _start_infrastructure(self) -> dict[str, str]:
        settings = self._settings
        for service, port, what in (
            ("booking", settings.http_port, "the booking API"),
            ("ops", settings.ops_port, "the operators' console"),
            ("partners", settings.partners_port, "the partners gateway"),
        ):
            if service in self._services:
                require_free(settings.http_host, port, what)
        self._state.mkdir(parents=True, exist_ok=True)
        bootstrap = settings.kafka_bootstrap
        if not bootstrap:
            self._broker = EmbeddedBroker(log_path=self._state / "broker.log")
            await asyncio.to_thread(self._broker.start)
            bootstrap = self._broker.bootstrap
            self._log("kith", f"embedded broker (Tansu) on {bootstrap}")
        else:
            self._log("kith", f"using Kafka at {bootstrap}")
        database_url = settings.database_url
        if not database_url:
            self._database = EmbeddedPostgres(self._state / "postgres" / "data")
            await asyncio.to_thread(self._database.start)
            database_url = self._database.url
            self._log("kith", f"embedded PostgreSQL on {self._database.host}:{self._database.port}")
        else:
            self._log("kith", "using the PostgreSQL server from KITH_DATABASE_URL")
        created = await ensure_topics(settings.model_copy(update={"kafka_bootstrap": bootstrap}))
        if created:
            self._log("kith", f"created {len(created)} topics")
        env = {
            "KITH_KAFKA_BOOTSTRAP": bootstrap,
            "KITH_DATABASE_URL": database_url,
            "KITH_OPERATOR_TOKEN": self._operator_token(),
        }
        clock_file = self.clock_file()
        if clock_file is not None:
            env["KITH_CLOCK_FILE"] = str(clock_file)
            clock.install(clock_file)
            ahead = clock.offset()
            if ahead:
                self._log("kith", f"the clock runs {ahead} ahead of real time ({clock_file})")
        if self._database is not None:
            # The embedded PostgreSQL: the development mode, where secrets left unset are
            # made into the state folder (each service makes its own there).
            env["KITH_DEVELOPMENT"] = "true"
        return env

    def clock_file(self) -> Path | None:
        """Where the movable clock lives: given, or in the state folder of an all-embedded Kith.

        A Kith on an external broker and database runs on real time unless told otherwise.
        """
        settings = self._settings
        if settings.clock_file is not None:
            return settings.clock_file.resolve()
        if settings.kafka_bootstrap or settings.database_url:
            return None
        return self._state / "clock"

    def _operator_token(self) -> str:
        if self._settings.operator_token is not None:
            return self._settings.operator_token.get_secret_value()
        if self._database is None and not self._settings.development:
            raise SupervisorError(
                "KITH_OPERATOR_TOKEN is not set: outside the development mode (the embedded "
                "PostgreSQL) set it to a long random string, e.g. `openssl rand -base64 32`"
            )
        return state_secret(self._state, "operator-token")

    async def _start_services(self, extra_env: dict[str, str]) -> None:
        run_dir = self._state / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        # `kith demo` and `kith tail` find the broker here when it is the embedded one.
        (run_dir / "kafka-bootstrap").write_text(extra_env["KITH_KAFKA_BOOTSTRAP"])
        for name in instance_names(self._services, self._replicas):
            ready_file = run_dir / f"{name}.ready"
            ready_file.unlink(missing_ok=True)
            # Any free port, listed in .kith/run/metrics: a fixed one would collide with a second
            # Kith (or a test run) on the machine, and that process would serve no metrics.
            self._metrics[name] = free_port(self._settings.http_host)
            env = {
                **os.environ,
                **extra_env,
                "KITH_READY_FILE": str(ready_file),
                "KITH_STATE_DIR": str(self._state),
                "KITH_METRICS_PORT": str(self._metrics[name]),
                "PYTHONUNBUFFERED": "1",
            }
            service, _, _ = name.partition("-")
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                f"services.{service}",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
            )
            child = _Child(name, process, ready_file)
            child.pump = asyncio.create_task(self._pump(child))
            self._children.append(child)
        (run_dir / "metrics").write_text(
            "".join(f"{name} {self._metrics_url(port)}\n" for name, port in self._metrics.items())
        )

    def _metrics_url(self, port: int) -> str:
        return f"http://{self._settings.http_host}:{port}/metrics"

    async def _pump(self, child: _Child) -> None:
        assert child.process.stdout is not None
        async for line in child.process.stdout:
            self._log(child.name, line.decode(errors="replace").rstrip(), markup=False)

    async def _wait_ready(self, stop: asyncio.Event) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        waiting = set(self._children)
        while waiting and not stop.is_set():
            for child in list(waiting):
                if child.ready_file.exists():
                    waiting.discard(child)
                    self._log("kith", f"{child.name} is ready")
                elif child.process.returncode is not None:
                    raise SupervisorError(
                        f"{child.name} exited with code {child.process.returncode} while "
                        "starting; its log is above"
                    )
            if time.monotonic() > deadline:
                names = ", ".join(sorted(child.name for child in waiting))
                raise SupervisorError(f"{names} not ready after {_READY_TIMEOUT_S:.0f}s")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.05)

    async def _first_death(self) -> None:
        await asyncio.wait(
            [asyncio.ensure_future(child.process.wait()) for child in self._children],
            return_when=asyncio.FIRST_COMPLETED,
        )

    def _say_ready(self, elapsed_s: float) -> None:
        self._log("kith", f"[bold green]Kith is up in {elapsed_s:.1f}s[/]")
        host = self._settings.http_host
        self._log("kith", f"  API and its docs:  {self._api_url}/docs")
        if "ops" in self._services:
            self._log("kith", f"  operators:         http://{host}:{self._settings.ops_port}/ops")
        if "partners" in self._services:
            self._log(
                "kith", f"  partners gateway:  http://{host}:{self._settings.partners_port}/docs"
            )
        self._log("kith", f"  operator token:    {self._state / 'operator-token'}")
        self._log("kith", f"  metrics:           {self._state / 'run' / 'metrics'}")
        self._log("kith", "  try the demo:      .venv/bin/kith demo   (in another terminal)")
        self._log("kith", "  stop:              Ctrl-C")

    async def _stop_all(self) -> None:
        # Services first (they flush and commit), then the broker and the database they use.
        for child in self._children:
            if child.process.returncode is None:
                child.process.send_signal(signal.SIGTERM)
        for child in self._children:
            try:
                await asyncio.wait_for(child.process.wait(), timeout=_STOP_TIMEOUT_S)
            except TimeoutError:
                self._log("kith", f"{child.name} did not stop in time; killing it")
                child.process.kill()
                await child.process.wait()
            if child.pump is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await child.pump
        if self._broker is not None:
            await asyncio.to_thread(self._broker.stop)
        if self._database is not None:
            await asyncio.to_thread(self._database.stop)
        if self._children or self._broker or self._database:
            self._log("kith", "stopped")

    def _log(self, source: str, message: str, *, markup: bool = True) -> None:
        colour = _COLOURS.get(source.partition("-")[0], "white")
        self._console.print(f"[{colour}]{source:>8} |[/] ", end="")
        self._console.print(message, markup=markup)
