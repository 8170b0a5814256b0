"""``python -m services.ops``: run the operators' console until SIGTERM or Ctrl-C."""

from __future__ import annotations

from services.ops.bootstrap import serve
from shared.lifecycle import prepare_process, run_service
from shared.settings import Settings


def main() -> None:
    """Read settings, configure logging and metrics, serve."""
    settings = Settings()
    prepare_process(settings, "ops")
    run_service(lambda stop: serve(settings, stop), settings)


if __name__ == "__main__":
    main()
