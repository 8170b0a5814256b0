"""The broker and database a benchmark measures against: embedded unless settings name them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.settings import RATE_LIMITS, Settings


@contextmanager
def bench_stack(settings: Settings) -> Iterator[Settings]:
    """Yield settings pointing at a running broker and database, started here if needed."""
    broker: EmbeddedBroker | None = None
    database: EmbeddedPostgres | None = None
    with tempfile.TemporaryDirectory(prefix="kith-bench-") as scratch:
        try:
            updates: dict[str, object] = {}
            if not settings.kafka_bootstrap:
                broker = EmbeddedBroker(log_path=Path(scratch) / "broker.log")
                broker.start()
                updates["kafka_bootstrap"] = broker.bootstrap
            if not settings.database_url:
                database = EmbeddedPostgres(Path(scratch) / "postgres" / "data")
                database.start()
                updates["database_url"] = database.url
                # Its own embedded database: the development mode (secrets made in state_dir).
                updates["development"] = True
            # A benchmark's crowd calls from one address: no rate limit may shape its figures.
            updates.update(dict.fromkeys(RATE_LIMITS, "100000000/1"))
            yield settings.model_copy(update=updates)
        finally:
            if database is not None:
                database.stop()
            if broker is not None:
                broker.stop()
