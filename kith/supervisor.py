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
from typing import Any

from prometheus_client import Counter
from rich.console import Console

from kith.restarts import CrashRecord, RestartPolicy
from shared import clock
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, PortInUse, free_port, require_free
from shared.embedded.mail import DevMailServer
from shared.messaging import ensure_topics
from shared.metrics import serve_metrics
from shared.postgres.roles import embedded_service_urls
from shared.secrets import state_secret
from shared.settings import Settings

SERVICES = ("booking", "matching", "trust", "ops", "partners", "notify", "ledger")
_COLOURS = {
    "booking": "cyan",
    "matching": "magenta",
    "trust": "green",
    "ops": "yellow",
    "partners": "blue",
    "notify": "bright_cyan",
    "ledger": "bright_green",
    "kith": "bold",
}
#: Services that can run as more than one process.
SCALABLE = frozenset({"booking", "matching"})
_READY_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 15.0
#: How often kith up looks whether the embedded broker and database still run.
_INFRASTRUCTURE_CHECK_S = 1.0
#: Services that send their outbox again when told the broker came back empty.
REPLAYING = frozenset({"booking", "trust"})
#: Services whose state lives on the broker: started again when the embedded broker was.
REBUILDING = frozenset({"matching"})


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


RESTARTS = Counter(
    "kith_process_restarts",
    "Times kith up started a process again after it died, by process.",
    ["process"],
)


@dataclass(eq=False)  # compared by identity: each is one supervised process
class _Child:
    name: str
    process: asyncio.subprocess.Process
    ready_file: Path
    env: dict[str, str]
    pump: asyncio.Task[None] | None = field(default=None)
    announce: asyncio.Task[None] | None = field(default=None)
    restart_asked: bool = False
    record: CrashRecord = field(default_factory=CrashRecord)


class Supervisor:
    """Owns every process ``kith up`` starts, and stops them all on the way out."""

    def __init__(
        self,
        settings: Settings,
        *,
        services: tuple[str, ...] = SERVICES,
        replicas: dict[str, int] | None = None,
        console: Console | None = None,
        restart_policy: RestartPolicy | None = None,
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
        self._service_urls: dict[str, str] = {}
        """Each database service's own URL (its role and password), on the embedded PostgreSQL."""
        self._database: EmbeddedPostgres | None = None
        self._mail: DevMailServer | None = None
        self._children: list[_Child] = []
        self._policy = restart_policy or RestartPolicy()
        self._stopping = False
        self._given_up: set[str] = set()

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
                    kafka=self._settings.model_copy(
                        update={"kafka_bootstrap": env["KITH_KAFKA_BOOTSTRAP"]}
                    ),
                    clock_file=self.clock_file(),
                )
            return await self._supervise(stop)
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
            ("notify", settings.notify_port, "notify's operators' API"),
            ("ledger", settings.ledger_port, "the ledger's API"),
        ):
            if service in self._services:
                require_free(settings.http_host, port, what)
        self._state.mkdir(parents=True, exist_ok=True)
        bootstrap = settings.kafka_bootstrap
        if not bootstrap:
            self._broker = EmbeddedBroker(log_path=self._state / "broker.log")
            await asyncio.to_thread(self._broker.start)
            self._write_pid("broker", self._broker.pid)
            bootstrap = self._broker.bootstrap
            self._log("kith", f"embedded broker (Tansu) on {bootstrap}")
        else:
            self._log("kith", f"using Kafka at {bootstrap}")
        database_url = settings.database_url
        if not database_url:
            self._database = EmbeddedPostgres(self._state / "postgres" / "data")
            await asyncio.to_thread(self._database.start)
            self._write_pid("postgres", self._database.pid)
            database_url = self._database.url
            self._log("kith", f"embedded PostgreSQL on {self._database.host}:{self._database.port}")
            self._service_urls = await embedded_service_urls(database_url, self._state)
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
        development = self._database is not None or settings.development
        if "notify" in self._services and not settings.smtp_host and development:
            # No SMTP server given in the development mode: one that keeps what it receives,
            # so that a new user sees the emails Kith sends without sending any.
            self._mail = DevMailServer(
                self._state / "mail",
                host=settings.http_host,
                smtp_port=settings.mail_smtp_port,
                inbox_port=settings.mail_inbox_port,
            )
            await asyncio.to_thread(self._mail.start)
            env["KITH_SMTP_HOST"] = settings.http_host
            env["KITH_SMTP_PORT"] = str(self._mail.smtp_port)
            env["KITH_SMTP_STARTTLS"] = "false"
            env["KITH_SMTP_TLS"] = "false"
            if not settings.sms_account_sid:
                # Text messages to the same inbox page, through the same provider adapter.
                env["KITH_SMS_API_URL"] = self._mail.inbox_url.rstrip("/")
                env["KITH_SMS_ACCOUNT_SID"] = "ACdevelopment"
                env["KITH_SMS_AUTH_TOKEN"] = "development"
                env["KITH_SMS_FROM"] = "Kith"
            self._log(
                "kith", f"development mail server on {settings.http_host}:{self._mail.smtp_port}"
            )
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

    def _listening(self) -> set[int]:
        """The ports the services are told to listen on: none of them can be a metrics port.

        Whoever chose them (a test, a benchmark) may have drawn them a moment ago, and the
        services have not bound them yet.
        """
        settings = self._settings
        return {
            settings.http_port,
            settings.ops_port,
            settings.partners_port,
            settings.notify_port,
            settings.ledger_port,
            settings.mail_inbox_port,
            settings.mail_smtp_port,
        }

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
            self._metrics[name] = free_port(self._settings.http_host, avoid=self._listening())
            service, _, _ = name.partition("-")
            env = {
                **os.environ,
                **extra_env,
                # Each service as its own role, owning only its database (embedded PostgreSQL).
                "KITH_DATABASE_URL": self._service_urls.get(
                    service, extra_env["KITH_DATABASE_URL"]
                ),
                "KITH_READY_FILE": str(ready_file),
                "KITH_STATE_DIR": str(self._state),
                "KITH_METRICS_PORT": str(self._metrics[name]),
                "PYTHONUNBUFFERED": "1",
            }
            child = _Child(name, await self._spawn(name, env), ready_file, env)
            child.pump = asyncio.create_task(self._pump(child))
            self._children.append(child)
        # kith up's own figures (restarts) beside the services'.
        self._metrics["kith"] = free_port(self._settings.http_host, avoid=self._listening())
        serve_metrics(self._settings.http_host, self._metrics["kith"])
        (run_dir / "metrics").write_text(
            "".join(f"{name} {self._metrics_url(port)}\n" for name, port in self._metrics.items())
        )

    async def _spawn(self, name: str, env: dict[str, str]) -> asyncio.subprocess.Process:
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
        self._write_pid(name, process.pid)
        return process

    def _write_pid(self, name: str, pid: int | None) -> None:
        # Where an operator (or a test) finds each process: `kill -9 $(cat .kith/run/trust.pid)`.
        run_dir = self._state / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        # Replaced in one rename: a reader never sees the file empty, half written.
        partial = run_dir / f".{name}.pid"
        partial.write_text(f"{pid}\n")
        partial.replace(run_dir / f"{name}.pid")

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

    async def _supervise(self, stop: asyncio.Event) -> int:
        """Keep every process running until Ctrl-C; 0, or 1 when every one was given up on.

        A process that dies is started again after a backoff while the others go on serving;
        one that keeps dying is left stopped with a message saying so.
        """
        keepers = [asyncio.ensure_future(self._keep(child, stop)) for child in self._children]
        infrastructure = asyncio.ensure_future(self._keep_infrastructure(stop))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            pending: set[asyncio.Future[Any]] = {stopped, *keepers}
            while stopped in pending:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if pending == {stopped}:
                    self._log("kith", "[red]every service was given up on; stopping Kith[/]")
                    return 1
            return 0
        finally:
            stopped.cancel()
            self._stopping = True
            for task in (*keepers, infrastructure):
                task.cancel()
            await asyncio.gather(*keepers, infrastructure, return_exceptions=True)

    async def _keep(self, child: _Child, stop: asyncio.Event) -> None:
        """Start ``child`` again each time it dies, until stopped or given up on."""
        while True:
            code = await child.process.wait()
            if stop.is_set() or self._stopping:
                return
            if child.restart_asked:
                child.restart_asked = False
                self._log("kith", f"starting {child.name} again to rebuild its tables")
                await self._respawn(child)
                continue
            now = time.monotonic()
            child.record.crashes.append(now)
            delay = self._policy.delay_s(child.record.crashes, now)
            if delay is None:
                self._given_up.add(child.name)
                self._log(
                    "kith",
                    f"[red]{child.name} keeps stopping (exit code {code}, "
                    f"{len(child.record.crashes)} times): giving up on it; the other services "
                    "go on. Its log is above.[/]",
                )
                return
            self._log(
                "kith",
                f"[yellow]{child.name} stopped unexpectedly (exit code {code}); "
                f"starting it again in {delay:.1f}s[/]",
            )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            if stop.is_set() or self._stopping:
                return
            await self._respawn(child)

    async def _respawn(self, child: _Child) -> None:
        child.ready_file.unlink(missing_ok=True)
        started = time.monotonic()
        child.process = await self._spawn(child.name, child.env)
        child.pump = asyncio.create_task(self._pump(child))
        child.record.restarts += 1
        RESTARTS.labels(process=child.name).inc()
        child.announce = asyncio.create_task(self._say_ready_again(child, child.process, started))

    async def _say_ready_again(
        self, child: _Child, process: asyncio.subprocess.Process, started: float
    ) -> None:
        while process.returncode is None and not self._stopping:
            if child.ready_file.exists():
                elapsed = time.monotonic() - started
                self._log("kith", f"{child.name} is ready again after {elapsed:.1f}s")
                return
            await asyncio.sleep(0.05)

    async def _keep_infrastructure(self, stop: asyncio.Event) -> None:
        """Start the embedded database or broker again if it dies under the services."""
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=_INFRASTRUCTURE_CHECK_S)
            if stop.is_set() or self._stopping:
                return
            if self._database is not None and not self._database.alive():
                self._log("kith", "[yellow]the embedded PostgreSQL stopped; starting it again[/]")
                await asyncio.to_thread(self._database.start)
                self._write_pid("postgres", self._database.pid)
                RESTARTS.labels(process="postgres").inc()
                self._log("kith", "the embedded PostgreSQL is back; the services reconnect")
            if self._broker is not None and not self._broker.alive():
                self._log("kith", "[yellow]the embedded broker stopped; starting it again[/]")
                await self._restart_broker(self._broker)
                RESTARTS.labels(process="broker").inc()
                self._replay_outboxes()
                self._log("kith", "the embedded broker is back, its topics made again")

    async def _restart_broker(self, broker: EmbeddedBroker) -> None:
        # The services are paused (SIGSTOP) while the broker comes back: the first client to
        # ask the new, empty broker for a topic would have it made with the broker's default
        # partitions, before Kith's own topics exist, and keys would land on other partitions.
        paused = [child for child in self._children if child.process.returncode is None]
        for child in paused:
            child.process.send_signal(signal.SIGSTOP)
        try:
            await asyncio.to_thread(broker.start)
            self._write_pid("broker", broker.pid)
            await ensure_topics(
                self._settings.model_copy(update={"kafka_bootstrap": broker.bootstrap})
            )
        finally:
            for child in paused:
                if child.name.partition("-")[0] in REBUILDING:
                    # Matching's tables live in the broker's changelogs, now gone: it starts
                    # again and rebuilds them from the streams booking and trust send again.
                    child.restart_asked = True
                    child.process.kill()
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGCONT)

    def _replay_outboxes(self) -> None:
        # The embedded broker keeps topics in memory: it came back empty. Booking and trust
        # send their outboxes again when asked (SIGUSR1), as they do when they start.
        for child in self._children:
            service, _, _ = child.name.partition("-")
            if service in REPLAYING and child.process.returncode is None:
                child.process.send_signal(signal.SIGUSR1)

    def _say_ready(self, elapsed_s: float) -> None:
        self._log("kith", f"[bold green]Kith is up in {elapsed_s:.1f}s[/]")
        host = self._settings.http_host
        self._log("kith", f"  the web app:       {self._api_url}/app/")
        self._log("kith", f"  API and its docs:  {self._api_url}/docs")
        if "ops" in self._services:
            self._log("kith", f"  operators:         http://{host}:{self._settings.ops_port}/ops")
        if "partners" in self._services:
            self._log(
                "kith", f"  partners gateway:  http://{host}:{self._settings.partners_port}/docs"
            )
        if "ledger" in self._services:
            self._log(
                "kith", f"  ledger (hours):    http://{host}:{self._settings.ledger_port}/docs"
            )
        if self._mail is not None:
            self._log("kith", f"  emails sent:       {self._mail.inbox_url}")
        self._log("kith", f"  operator token:    {self._state / 'operator-token'}")
        self._log("kith", f"  metrics:           {self._state / 'run' / 'metrics'}")
        self._log("kith", "  try the demo:      .venv/bin/kith demo   (in another terminal)")
        self._log("kith", "  stop:              Ctrl-C")

    async def _stop_all(self) -> None:
        self._stopping = True
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
        if self._mail is not None:
            await asyncio.to_thread(self._mail.stop)
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
