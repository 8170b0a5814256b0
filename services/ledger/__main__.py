"""``python -m services.ledger``: run the ledger service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio

from services.ledger.bootstrap import LedgerService
from shared import lifecycle
from shared.lifecycle import Http, prepare_process, run_service
from shared.settings import Settings


def main() -> None:
    """Build settings from ``KITH_*``, then serve until stopped."""
    settings = Settings()
    prepare_process(settings, "ledger")
    run_service(lambda stop: serve(settings, stop), settings)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the ledger and its API until ``stop``; a background task that fails ends the process."""
    service = LedgerService(settings)

    def http() -> Http:
        return Http(lifecycle.asgi_server(service.app(), settings.http_host, settings.ledger_port))

    api = f"http://{settings.http_host}:{settings.ledger_port}"
    await lifecycle.serve(
        service, settings, stop, name="ledger", http=http, ready_detail=f"ledger {api}"
    )


if __name__ == "__main__":
    main()
