"""``python -m services.matching``: run one matching worker until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import uvloop

from services.matching.app import create_app, runtime_of
from shared.lifecycle import clear_ready, mark_ready, prepare_process
from shared.settings import Settings


def main() -> None:
    """Build the app from ``KITH_*`` settings and run it as a faust worker."""
    # uvloop, as booking and trust run on: the Kafka client's socket writes and polls were
    # a third of a busy worker's time on asyncio's own loop. Set before faust makes its
    # loops (the worker's and its consumer thread's).
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    settings = Settings()
    prepare_process(settings, "matching")
    app = create_app(settings)
    runtime = runtime_of(app)

    async def announce_ready() -> None:
        await runtime.ready.wait()
        mark_ready(settings, "matching: partitions assigned, tables recovered")

    app.task(announce_ready)
    worker: Any = faust.Worker(app, loglevel="warning", quiet=True)
    # The start-up spinner writes cursor codes into `kith up`'s prefixed log; logs suffice.
    worker.spinner = None
    # faust would replace Kith's logging with its own format at warning level, hiding
    # matching's own structured logs (such as the partitions each worker is given).
    worker._setup_logging = lambda: None
    try:
        # The worker installs SIGTERM and SIGINT handlers that stop every service cleanly
        # (a final commit included) and then returns.
        worker.execute_from_commandline()
    finally:
        clear_ready(settings)


if __name__ == "__main__":
    main()
