"""``python -m services.partners``: run the partners gateway until SIGTERM or Ctrl-C."""

from __future__ import annotations

from services.partners.bootstrap import serve
from shared.lifecycle import prepare_process, run_service
from shared.settings import Settings


def main() -> None:
    """Read settings, configure logging, serve."""
    settings = Settings()
    prepare_process(settings, "partners")
    run_service(lambda stop: serve(settings, stop), settings)


if __name__ == "__main__":
    main()
