"""``python -m services.ledger``: run the ledger service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from services.ledger.bootstrap import LedgerService
from shared import lifecycle
from shared.lifecycle import Http, prepare_process, run_service
from shared.settings import Settings


def main() -> None:
    """Build settings from ``KITH_*``, then serve until stopped."""
    settings = Settings()
    prepare_process(settings, "ledger")
    run_service(lambda stop: serve(settings, stop), settings)


class _Server(uvicorn.Server):
    """uvicorn, leaving SIGTERM and SIGINT to ``run_service``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the ledger and its API until ``stop``; a background task that fails ends the process."""
    service = LedgerService(settings)

    def http() -> Http:
        config = uvicorn.Config(
            service.app(),
            host=settings.http_host,
            port=settings.ledger_port,
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=3,
        )
        return Http(_Server(config))

    api = f"http://{settings.http_host}:{settings.ledger_port}"
    await lifecycle.serve(
        service, settings, stop, name="ledger", http=http, ready_detail=f"ledger {api}"
    )


if __name__ == "__main__":
    main()
