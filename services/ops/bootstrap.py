"""The console's composition root: the feed from every stream, the console, the HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from services.ops.adapters.feed import Feed
from services.ops.entrypoints.http.app import create_app
from services.ops.service_layer.console import HISTORY, Console
from shared.lifecycle import mark_ready
from shared.settings import Settings

log = structlog.get_logger(__name__)


class OpsRuntime:
    """The feed and the console; tests start one in-process and serve ``app`` themselves.

    Args:
        settings: Kith settings (broker, operator token).
        history: How many recent events the console keeps for browsers.
    """

    def __init__(self, settings: Settings, *, history: int = HISTORY) -> None:
        self.settings = settings
        self.console = Console(history=history)
        self.feed = Feed(settings, self.console)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take every partition and start feeding the console."""
        await self.feed.start()
        self._task = asyncio.create_task(self.feed.run(), name="ops-feed")

    @property
    def task(self) -> asyncio.Task[None]:
        """The feed's task (once started): if it fails, the console is blind."""
        if self._task is None:
            raise RuntimeError("OpsRuntime.start() has not run")
        return self._task

    def app(self) -> FastAPI:
        """The console's HTTP app."""
        return create_app(self.console, self.settings, ready=self.feed.ready)

    async def stop(self) -> None:
        """End every open event stream, then stop reading."""
        self.console.close()
        await self.feed.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout=5)


class _Server(uvicorn.Server):
    """uvicorn, leaving SIGTERM and SIGINT to ``run_service``.

    uvicorn's own handlers would start its graceful shutdown at once, which waits for open
    event streams; ``serve`` must first close them through the console.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server_for(runtime: OpsRuntime, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the console that never waits long for an open stream."""
    config = uvicorn.Config(
        runtime.app(),
        host=host,
        port=port,
        log_config=None,
        lifespan="off",
        timeout_graceful_shutdown=3,
    )
    return _Server(config)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the console until ``stop`` is set; mark it ready once it listens and reads."""
    runtime = OpsRuntime(settings)
    await runtime.start()
    server = server_for(runtime, settings.http_host, settings.ops_port)
    serving = asyncio.create_task(server.serve(), name="ops-http")
    try:
        # uvicorn offers no event for "listening": poll its flag briefly.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if serving.done():
            await serving  # it failed to start: raise why
        mark_ready(settings, f"ops http://{settings.http_host}:{settings.ops_port}/ops")
        log.info("ops console serving", url=f"http://{settings.http_host}:{settings.ops_port}/ops")
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait(
            {serving, stopping, runtime.task}, return_when=asyncio.FIRST_COMPLETED
        )
        stopping.cancel()
        if runtime.task in done and runtime.task.exception() is not None:
            raise RuntimeError("the ops feed failed") from runtime.task.exception()
    finally:
        runtime.console.close()  # open event streams end, so the server stops at once
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        await runtime.stop()
