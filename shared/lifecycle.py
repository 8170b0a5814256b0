"""Running a service process: stop cleanly on SIGTERM or Ctrl-C, and say when it is ready."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

import structlog
import uvloop

from shared import clock
from shared.logs import configure_logging
from shared.metrics import start_metrics_server
from shared.secrets import require_secrets
from shared.settings import Settings

log = structlog.get_logger(__name__)


def prepare_process(settings: Settings, service: str) -> None:
    """What every service process does first: refuse weak secrets, then its clock, its logs,
    its metrics."""
    require_secrets(settings, service)
    clock.install(settings.clock_file)
    configure_logging(settings, service)
    start_metrics_server(settings, service)


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
