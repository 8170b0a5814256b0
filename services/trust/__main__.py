"""``python -m services.trust``: run the trust service until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio

from services.trust.bootstrap import TrustService
from shared import lifecycle
from shared.lifecycle import prepare_process, run_service
from shared.settings import Settings


def main() -> None:
    """Build settings from ``KITH_*``, then serve until stopped."""
    settings = Settings()
    prepare_process(settings, "trust")
    run_service(lambda stop: serve(settings, stop), settings)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run trust until ``stop``; a background task that fails ends the process."""
    service = TrustService(settings)
    await lifecycle.serve(service, settings, stop, name="trust", replay=service.replay)


if __name__ == "__main__":
    main()
