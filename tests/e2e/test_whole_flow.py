"""The first full flow, through `kith up`'s real processes, the real broker and database."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from kith.demo import DemoFailed, run_demo
from shared.embedded import free_port
from tests.conftest import Stack
from tests.support import eventually

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def kith_up(
    stack: Stack, state_dir: Path, *, services: str = "booking,matching,trust"
) -> AsyncIterator[tuple[str, str]]:
    """Run `kith up` against the test stack; yield the API URL and the operator token."""
    port = free_port()
    token = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "KITH_KAFKA_BOOTSTRAP": stack.bootstrap,
        "KITH_DATABASE_URL": stack.database_url,
        "KITH_HTTP_PORT": str(port),
        "KITH_STATE_DIR": str(state_dir),
        "KITH_OPERATOR_TOKEN": token,
        "KITH_REGULAR_HOLD_S": "30",
    }
    log = (state_dir / "kith-up.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kith.cli",
        "up",
        "--services",
        services,
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        ready = [state_dir / "run" / f"{name}.ready" for name in services.split(",")]

        async def all_ready() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"kith up exited: {(state_dir / 'kith-up.log').read_text()}")
            return all(path.exists() for path in ready)

        await eventually(all_ready, timeout_s=90, what="every service to be ready")
        yield f"http://127.0.0.1:{port}", token
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.wait(), timeout=30)
        log.close()


async def test_request_is_matched_booked_visited_and_remembered(
    stack: Stack, tmp_path: Path
) -> None:
    async with kith_up(stack, tmp_path) as (api, token):
        result = await run_demo(
            api, operator_token=token, kafka_bootstrap=stack.bootstrap, timeout_s=60
        )

    assert result.first_offer["reasons"], "an offer says why it was made"
    assert result.booking["booking_id"]
    assert result.relationship["stage"] == "first_visit"
    assert result.relationship["visits"] == 1
    assert [helper for helper, _ in result.second_offers] == [result.booking["helper_id"]], (
        "the next request goes to the helper both want to see again, alone"
    )
    codes = {reason["code"] for reason in result.second_offers[0][1]["reasons"]}
    assert codes & {"met_before", "regular_helper"}


@pytest.mark.parametrize("missing", ["booking", "matching", "trust"])
async def test_flow_fails_without_any_one_service(
    stack: Stack, tmp_path: Path, missing: str
) -> None:
    running = ",".join(name for name in ("booking", "matching", "trust") if name != missing)
    async with kith_up(stack, tmp_path, services=running) as (api, token):
        with pytest.raises((DemoFailed, httpx.ConnectError)):
            await run_demo(api, operator_token=token, kafka_bootstrap=stack.bootstrap, timeout_s=8)
