"""Running a service process: stop cleanly on SIGTERM or Ctrl-C, and say when it is ready."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol

import structlog
import uvicorn
import uvloop

from shared import clock, collector
from shared.logs import configure_logging
from shared.metrics import start_metrics_server
from shared.secrets import require_secrets
from shared.settings import Settings

log = structlog.get_logger(__name__)


def prepare_process(settings: Settings, service: str) -> None:
    """What every service process does first: refuse weak secrets, then its clock, its logs,
    its metrics, and the garbage collector's pace (``collector``)."""
    require_secrets(settings, service)
    clock.install(settings.clock_file)
    configure_logging(settings, service)
    start_metrics_server(settings, service)
    collector.tune()


def mark_ready(settings: Settings, detail: str = "ready") -> None:
    """Tell the supervisor (``kith up``) this process serves; a no-op when run alone."""
    if settings.ready_file is not None:
        settings.ready_file.parent.mkdir(parents=True, exist_ok=True)
        settings.ready_file.write_text(detail)


def clear_ready(settings: Settings) -> None:
    """Withdraw the ready mark on the way out."""
    if settings.ready_file is not None:
        settings.ready_file.unlink(missing_ok=True)


def replay_on_signal(replay: Callable[[], Awaitable[object]]) -> None:
    """Run ``replay`` whenever this process gets SIGUSR1.

    ``kith up`` sends it to the services with an outbox when it had to start the embedded
    broker again: that broker keeps its topics in memory, so it came back empty, and each
    outbox is sent again as it would be at the service's start.
    """
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[object]] = set()

    async def replay_logged() -> object:
        try:
            return await replay()
        except Exception as error:  # the broker or database still coming back: say so
            log.error("replay after a broker restart failed", error=repr(error))
            return None

    def fire() -> None:
        task = loop.create_task(replay_logged())
        running.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(running.discard)

    loop.add_signal_handler(signal.SIGUSR1, fire)


def run_service(main: Callable[[asyncio.Event], Awaitable[None]], settings: Settings) -> None:
    """Run ``main(stop)`` until it returns; SIGTERM and SIGINT set ``stop``."""

    async def supervise() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await main(stop)
        finally:
            clear_ready(settings)

    # uvloop: the event loop in C, which asyncpg and uvicorn both run markedly faster on.
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        runner.run(supervise())


class Service(Protocol):
    """What ``serve`` runs: a service's runtime, whose ``start`` and ``stop`` pair up."""

    async def start(self) -> None:
        """Open connections and start the background tasks."""

    async def ready(self) -> None:
        """Return once the service does its work (its consumers have partitions)."""

    @property
    def tasks(self) -> Collection[asyncio.Task[Any]]:
        """The background tasks (relays, consumers, sweeps) that must run while it serves."""

    async def stop(self) -> None:
        """Stop the background tasks and close every connection."""


@dataclass
class Http:
    """The HTTP server ``serve`` runs beside a service.

    Attributes:
        server: uvicorn's server for the service's app.
        sockets: Already bound sockets to serve on (booking shares its port across
            processes); None lets uvicorn bind its configured host and port.
        before_exit: Called before the server is told to exit, e.g. to end open event
            streams that uvicorn's graceful shutdown would otherwise wait for.
    """

    server: IdleServer
    sockets: list[socket.socket] | None = None
    before_exit: Callable[[], None] | None = None


class IdleServer(uvicorn.Server):
    """uvicorn, waking only while someone is connected, and then once a second.

    uvicorn's main loop looks at its exit flag every 100 ms and refreshes the Date header on
    every tenth look: an idle service woke ten times a second for that alone. This one
    refreshes the header once a second while a connection is open; with none open it sleeps
    until one opens (``_Connections``), which refreshes the header at once, so that the
    first response already carries the present time. Exiting (``should_exit`` set, by
    ``exit`` or a signal) ends the wait at once.
    """

    #: Seconds between two refreshes of the Date header (its resolution) while connected.
    tick_s = 1.0

    def __init__(self, config: uvicorn.Config) -> None:
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        super().__init__(config)
        self.server_state.connections = _Connections(self._opened)

    @property
    def should_exit(self) -> bool:
        """Whether the server is to shut down; setting it wakes the main loop."""
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._should_exit = value
        if value:
            self._wake_up()

    def exit(self) -> None:
        """Start the graceful shutdown now."""
        self.should_exit = True

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            # uvicorn refreshes the Date header when the counter is a multiple of 10.
            counter = (counter + 10) % 864000
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.next_tick_s())

    def next_tick_s(self) -> float | None:
        """How long the main loop sleeps now: ``tick_s`` while a connection is open, else
        until one opens (or the server exits)."""
        return self.tick_s if self.server_state.connections else None

    def _opened(self) -> None:
        """A connection opened: the Date header is refreshed before its first request is
        read, and the main loop ticks again while it stays open."""
        date = formatdate(time.time(), usegmt=True).encode()
        headers = [(b"date", date)] if self.config.date_header else []
        self.server_state.default_headers = headers + self.config.encoded_headers
        self._wake.set()

    def _wake_up(self) -> None:
        # ``should_exit`` is set from the loop, or from a signal handler (uvicorn's own),
        # which must not touch the event directly.
        if self._loop is None:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)


class _Connections(set[Any]):
    """uvicorn's open connections, calling ``opened`` as each one is added."""

    def __init__(self, opened: Callable[[], None]) -> None:
        super().__init__()
        self._opened = opened

    def add(self, connection: Any) -> None:
        super().add(connection)
        self._opened()


class _Server(IdleServer):
    """uvicorn, leaving SIGTERM and SIGINT to ``run_service``.

    uvicorn's own handlers would start its graceful shutdown at once, which waits for open
    event streams; ``serve`` must first close them.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


#: Seconds a Kith server keeps an idle connection open. Longer than any client keeps one in
#: its pool: httpx's 5 s within the platform, and the 60 s of the usual proxies in front of
#: it (nginx's ingress upstreams, cloud load balancers). With the two equal, a client
#: sometimes sent a request on a connection the server was closing that instant and read
#: nothing back (the console's proxy then answered 502).
KEEP_ALIVE_S = 75


def server_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for one of Kith's servers: Kith's logging, its keep-alive
    (``KEEP_ALIVE_S``), and ``options`` (uvicorn's own)."""
    return uvicorn.Config(
        app, host=host, port=port, log_config=None, timeout_keep_alive=KEEP_ALIVE_S, **options
    )


def asgi_server(app: Any, host: str, port: int) -> IdleServer:
    """A uvicorn server for ``app`` that leaves signals to ``run_service`` and never waits
    long for an open stream as it stops."""
    return _Server(server_config(app, host, port, lifespan="off", timeout_graceful_shutdown=3))


async def finish_tasks(tasks: Collection[asyncio.Task[Any]], timeout_s: float = 10) -> None:
    """Let each background task end once its work has been told to stop; what it raises then
    (or a task that will not end in ``timeout_s`` and is cancelled) no longer matters."""
    for task in tasks:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=timeout_s)


class BackgroundTaskEnded(RuntimeError):
    """A background task a service cannot work without ended while it served."""


async def serve(
    service: Service,
    settings: Settings,
    stop: asyncio.Event,
    *,
    name: str,
    http: Callable[[], Http] | None = None,
    replay: Callable[[], Awaitable[object]] | None = None,
    ready_detail: str | None = None,
) -> None:
    """Run ``service`` (and its HTTP server) until ``stop`` is set, or until it cannot work.

    Every service process runs through here. It is marked ready once the server listens and
    ``service.ready()`` returns. A background task that ends before ``stop`` (a relay,
    consumer or sweep that failed) ends the process with ``BackgroundTaskEnded`` after a log
    line naming it: a process that kept answering HTTP while its relay was dead would look
    healthy and publish nothing, whereas an exited one is restarted by its supervisor
    (``kith up``, or the orchestrator).

    Args:
        service: The runtime; ``serve`` starts and stops it.
        settings: Kith settings (the ready file).
        stop: Set on SIGTERM or Ctrl-C (``run_service``).
        name: The service's name, in its log lines.
        http: Builds the HTTP server once the service has started (its app needs it).
        replay: Run on SIGUSR1 (``replay_on_signal``), for services with an outbox.
        ready_detail: What the ready mark says (its address); ``name`` by default.
    """
    await service.start()
    server: Http | None = None
    serving: asyncio.Task[None] | None = None
    try:
        server = http() if http is not None else None
        if replay is not None:
            replay_on_signal(replay)
        if server is not None:
            serving = asyncio.create_task(
                server.server.serve(sockets=server.sockets), name=f"{name}-http"
            )
            # uvicorn offers no event for "listening": poll its flag briefly.
            while not server.server.started and not serving.done():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        watched: set[asyncio.Future[Any]] = set(service.tasks)
        if serving is not None:
            watched.add(serving)
        stopping = asyncio.create_task(stop.wait(), name=f"{name}-stop")
        ready = asyncio.create_task(service.ready(), name=f"{name}-ready")
        try:
            await asyncio.wait({stopping, ready, *watched}, return_when=asyncio.FIRST_COMPLETED)
            if ready.done() and not stop.is_set() and not any(task.done() for task in watched):
                ready.result()  # it could not get ready: raise why
                mark_ready(settings, ready_detail or name)
                log.info(f"{name} ready", service=name, detail=ready_detail)
                await asyncio.wait({stopping, *watched}, return_when=asyncio.FIRST_COMPLETED)
            _raise_if_ended(watched, name, serving, stop)
        finally:
            for waiter in (stopping, ready):
                waiter.cancel()
    finally:
        if server is not None:
            if server.before_exit is not None:
                server.before_exit()
            server.server.exit()
        if serving is not None:
            with contextlib.suppress(Exception):
                await serving
        if server is not None:
            for listener in server.sockets or ():
                listener.close()
        await service.stop()


def _raise_if_ended(
    watched: set[asyncio.Future[Any]],
    name: str,
    serving: asyncio.Task[None] | None,
    stop: asyncio.Event,
) -> None:
    """Raise ``BackgroundTaskEnded`` for the first watched task that ended on its own."""
    for task in watched:
        if not task.done():
            continue
        error = None if task.cancelled() else task.exception()
        if task is serving and error is None:
            # uvicorn returns when it handled a signal itself: an orderly stop.
            continue
        if stop.is_set() and error is None:
            continue
        task_name = task.get_name() if isinstance(task, asyncio.Task) else repr(task)
        log.error(
            "a background task ended: stopping the process so that its supervisor restarts it",
            service=name,
            task=task_name,
            error=repr(error) if error is not None else "returned",
        )
        raise BackgroundTaskEnded(f"{name}: {task_name} ended") from error
