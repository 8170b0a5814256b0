"""``python -m services.partners``: run the partners gateway until SIGTERM or Ctrl-C."""

from __future__ import annotations

from services.partners.bootstrap import serve
from shared.lifecycle import run_service
from shared.logs import configure_logging
from shared.metrics import start_metrics_server
from shared.settings import Settings


def main() -> None:
    """Read settings, configure logging, serve."""
    settings = Settings()
    configure_logging(settings, "partners")
    start_metrics_server(settings, "partners")
    run_service(lambda stop: serve(settings, stop), settings)


if __name__ == "__main__":
    main()
