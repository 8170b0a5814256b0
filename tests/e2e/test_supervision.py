"""`kith up` keeps Kith running: a process killed with SIGKILL is started again by itself,
the others serve on meanwhile, and the whole flow still works afterwards."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from kith.demo import run_demo
from kith.running import running_kith
from kith.supervisor import SERVICES
from tests.conftest import Stack
from tests.support import eventually

pytestmark = pytest.mark.e2e


def _pid(state_dir: Path, name: str) -> int:
    return int((state_dir / "run" / f"{name}.pid").read_text())


def _ready(state_dir: Path, name: str) -> bool:
    return (state_dir / "run" / f"{name}.ready").exists()


async def test_every_process_comes_back_after_a_sigkill_and_the_flow_still_works(
    own_stack: Stack, tmp_path: Path
) -> None:
    # A broker of its own: restarted matching reads only this run, not a test worker's whole
    # history (on the shared broker it waited minutes for its partitions in CI).
    stack, state = own_stack, tmp_path / "kith"
    async with (
        running_kith(
            bootstrap=stack.bootstrap,
            database_url=stack.database_url,
            state_dir=state,
            services=SERVICES,
            # The demo checks in a day ahead: open check-in early rather than move this clock.
            env={"KITH_REGULAR_HOLD_S": "30", "KITH_CHECK_IN_OPENS_BEFORE_S": str(3 * 86400)},
        ) as kith,
        # What is measured here is that each process comes back, not how fast booking answers:
        # with the suite's other workers on the same two cores, the API document (built on its
        # first request) took more than 5 s.
        httpx.AsyncClient(timeout=30) as http,
    ):
        # Every service but booking at once, then booking: the API answers while the others
        # come back, and each comes back by itself.
        assert (await http.get(f"{kith.api}/openapi.json")).status_code == 200
        others = [name for name in SERVICES if name != "booking"]
        for group in (others, ["booking"]):
            killed = {name: _pid(state, name) for name in group}
            for pid in killed.values():
                os.kill(pid, signal.SIGKILL)
            if "booking" not in group:
                assert (await http.get(f"{kith.api}/openapi.json")).status_code == 200

            async def back(killed: dict[str, int] = killed) -> bool:
                return all(
                    _pid(state, name) != pid and _ready(state, name) for name, pid in killed.items()
                )

            await eventually(back, timeout_s=90, what=f"{', '.join(group)} started again")
            assert (await http.get(f"{kith.api}/openapi.json")).status_code == 200
        for name in SERVICES:
            os.kill(_pid(state, name), 0)  # raises if any process is gone
        log = (state / "kith-up.log").read_text()
        assert log.count("stopped unexpectedly") == len(SERVICES)
        figures = (await http.get(kith.metrics_urls()["kith"])).text
        for name in SERVICES:
            assert f'kith_process_restarts_total{{process="{name}"}} 1.0' in figures
        # Matching, killed with the rest, rebuilds its tables before it reads anew: on two
        # cores shared with other tests that took more than the demo's usual minute.
        await run_demo(
            kith.api, operator_token=kith.operator_token, kafka=stack.bootstrap, timeout_s=150
        )


async def test_the_embedded_database_and_broker_come_back_under_the_running_services(
    tmp_path: Path,
) -> None:
    async with (
        running_kith(
            bootstrap=None,
            database_url=None,
            state_dir=tmp_path,
            services=SERVICES,
            env={"KITH_REGULAR_HOLD_S": "30"},
        ) as kith,
        httpx.AsyncClient(timeout=5) as http,
    ):
        log = tmp_path / "kith-up.log"
        for server, back in (
            ("postgres", "the embedded PostgreSQL is back"),
            ("broker", "the embedded broker is back"),
        ):
            os.kill(_pid(tmp_path, server), signal.SIGKILL)

            async def restarted(back: str = back) -> bool:
                return back in log.read_text()

            await eventually(restarted, timeout_s=60, what=f"{server} started again")
        bootstrap = (tmp_path / "run" / "kafka-bootstrap").read_text().strip()
        # The whole flow, over the new broker and the restarted database.
        # An all-embedded Kith moves its own clock: the demo moves it to the visit's time.
        await run_demo(
            kith.api,
            operator_token=kith.operator_token,
            kafka=bootstrap,
            clock_file=tmp_path / "clock",
        )
        assert (await http.get(f"{kith.api}/openapi.json")).status_code == 200
        # No service died of it: they reconnected by themselves. Matching alone was started
        # again on purpose, its tables being on the broker that lost them.
        text = log.read_text()
        assert "stopped unexpectedly" not in text
        assert "starting matching again to rebuild its tables" in text
