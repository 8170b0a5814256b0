"""What an idle matching worker wakes for: nothing it does not use."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from services.matching.app import QuietMonitor, create_app
from shared.settings import Settings


async def test_the_worker_samples_no_rates_for_a_web_page_it_does_not_serve(
    tmp_path: Path,
) -> None:
    settings = Settings(kafka_bootstrap="127.0.0.1:9", state_dir=tmp_path)
    app = create_app(settings, app_id=f"test-{uuid.uuid4().hex[:8]}")
    monitor = app.monitor
    assert isinstance(monitor, QuietMonitor)
    assert not app.conf.web_enabled, "no faust web page to show the rates on"
    # faust's own sampler loops once a second for as long as the worker runs.
    await asyncio.wait_for(monitor._sampler(monitor), timeout=5)
    assert app.conf.broker_commit_interval >= 1.0, "the committer wakes at most once a second"
