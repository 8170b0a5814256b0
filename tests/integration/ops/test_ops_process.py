"""``python -m services.ops`` as a real process: ready, metrics on its own port, refusals, and
a clean stop on SIGTERM even while a browser follows the event stream."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from pathlib import Path

import httpx

from shared.embedded import free_port
from tests.conftest import Stack
from tests.support import eventually

METRIC_NAMES = (
    "kith_events_consumed_total",
    "kith_events_published_total",
    "kith_handler_seconds",
    "kith_consumer_lag",
    "kith_outbox_backlog",
    "kith_dead_letters_total",
)


async def test_ops_process_serves_metrics_refuses_strangers_and_stops_with_a_stream_open(
    stack: Stack, tmp_path: Path
) -> None:
    ops_port, metrics_port = free_port(), free_port()
    token = secrets.token_urlsafe(16)
    ready = tmp_path / "ops.ready"
    log = tmp_path / "ops.log"
    env = {
        **os.environ,
        "KITH_KAFKA_BOOTSTRAP": stack.bootstrap,
        "KITH_OPS_PORT": str(ops_port),
        "KITH_METRICS_PORT": str(metrics_port),
        "KITH_OPERATOR_TOKEN": token,
        "KITH_DEVELOPMENT": "true",
        "KITH_DATABASE_URL": stack.database_url,
        "KITH_READY_FILE": str(ready),
        "KITH_STATE_DIR": str(tmp_path),
    }
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.ops", env=env, stdout=output, stderr=output
        )
    try:

        async def started() -> bool:
            assert process.returncode is None, log.read_text()
            return ready.exists()

        await eventually(started, timeout_s=60, what="the ops process ready")
        base = f"http://127.0.0.1:{ops_port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:

            async def lag_measured() -> str | None:
                scraped = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
                assert scraped.status_code == 200
                # The console's reader measures its lag once it has fetched every partition.
                lags = [
                    line
                    for line in scraped.text.splitlines()
                    if line.startswith("kith_consumer_lag{") and 'service="ops"' in line
                ]
                return scraped.text if lags else None

            text = await eventually(lag_measured, what="the console's lag in its metrics")
            for name in METRIC_NAMES:
                assert f"# TYPE {name.removesuffix('_total')}" in text, name

            assert (await client.get("/ops")).status_code == 303
            assert (await client.get("/ops/waiting")).status_code == 401

            bearer = {"Authorization": f"Bearer {token}"}
            async with client.stream("GET", "/ops/events", headers=bearer) as stream:
                assert stream.status_code == 200
                lines = stream.aiter_lines()
                assert await anext(lines) == "retry: 2000"
                process.send_signal(signal.SIGTERM)
                # The stream ends (rather than holding the server open) and the process exits.
                async for _ in lines:
                    pass
            code = await asyncio.wait_for(process.wait(), timeout=10)
        assert code == 0, log.read_text()
        assert not ready.exists(), "the ready mark is withdrawn on the way out"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
