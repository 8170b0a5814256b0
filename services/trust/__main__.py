"""``python -m services.trust``: run the trust service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio

import structlog

from services.trust.bootstrap import TrustService
from shared.lifecycle import mark_ready, prepare_process, replay_on_signal, run_service
from shared.settings import Settings


def main() -> None:
    """Build settings from ``KITH_*``, then serve until stopped."""
    settings = Settings()
    prepare_process(settings, "trust")
    run_service(lambda stop: serve(settings, stop), settings)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Start trust, mark it ready once its consumer is assigned, and stop on ``stop``.

    A background task that fails ends the process, so a supervisor can restart it.
    """
    log = structlog.get_logger("trust")
    service = TrustService(settings)
    await service.start()
    replay_on_signal(service.replay)
    try:
        stopped = asyncio.create_task(stop.wait())
        ready = asyncio.create_task(service.ready())
        await asyncio.wait([stopped, ready], return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            mark_ready(settings, "trust")
            log.info("trust ready")
        else:
            ready.cancel()
        done, _ = await asyncio.wait([stopped, *service.tasks], return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        for task in done - {stopped}:
            if task.exception() is not None:
                raise RuntimeError(f"{task.get_name()} failed") from task.exception()
    finally:
        await service.stop()


if __name__ == "__main__":
    main()
