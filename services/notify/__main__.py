"""``python -m services.notify``: run the notify service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import structlog
import uvicorn

from services.notify.bootstrap import NotifyService
from shared.lifecycle import mark_ready, prepare_process, run_service
from shared.settings import Settings


def main() -> None:
    """Build settings from ``KITH_*``, then serve until stopped."""
    settings = Settings()
    prepare_process(settings, "notify")
    run_service(lambda stop: serve(settings, stop), settings)


class _Server(uvicorn.Server):
    """uvicorn, leaving SIGTERM and SIGINT to ``run_service``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Start notify and its API, mark it ready once its consumer is assigned, stop on ``stop``.

    A background task that fails ends the process, so a supervisor can restart it.
    """
    log = structlog.get_logger("notify")
    service = NotifyService(settings)
    await service.start()
    config = uvicorn.Config(
        service.app(),
        host=settings.http_host,
        port=settings.notify_port,
        log_config=None,
        lifespan="off",
        timeout_graceful_shutdown=3,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(), name="notify-http")
    try:
        stopped = asyncio.create_task(stop.wait())
        ready = asyncio.create_task(service.ready())
        await asyncio.wait([stopped, ready], return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            mark_ready(settings, "notify")
            log.info("notify ready", api=f"http://{settings.http_host}:{settings.notify_port}")
        else:
            ready.cancel()
        done, _ = await asyncio.wait(
            [stopped, serving, *service.tasks], return_when=asyncio.FIRST_COMPLETED
        )
        stopped.cancel()
        for task in done - {stopped}:
            if task.exception() is not None:
                raise RuntimeError(f"{task.get_name()} failed") from task.exception()
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        await service.stop()


if __name__ == "__main__":
    main()
