"""``python -m services.notify``: run the notify service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio

from services.notify.bootstrap import NotifyService
from shared import lifecycle
from shared.lifecycle import Http, prepare_process, run_service
from shared.settings import Settings


def main() -> None:
    """Build settings from ``KITH_*``, then serve until stopped."""
    settings = Settings()
    prepare_process(settings, "notify")
    run_service(lambda stop: serve(settings, stop), settings)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run notify and its API until ``stop``; a background task that fails ends the process."""
    service = NotifyService(settings)

    def http() -> Http:
        return Http(lifecycle.asgi_server(service.app(), settings.http_host, settings.notify_port))

    api = f"http://{settings.http_host}:{settings.notify_port}"
    await lifecycle.serve(
        service, settings, stop, name="notify", http=http, ready_detail=f"notify {api}"
    )


if __name__ == "__main__":
    main()
