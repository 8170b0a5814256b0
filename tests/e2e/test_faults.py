"""Short runs of ``kith faults`` scenarios, through the same code as the command.

Each starts its own broker, database and service processes (a scenario may kill them), so
these tests do not use the session's stack.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import psutil
import pytest

from kith.faults.crash_anywhere import CrashAnywhereOptions, run_crash_anywhere
from kith.faults.flow_kills import FlowKillOptions, run_booking_kill, run_trust_kill
from kith.faults.ledger_faults import LedgerFaultOptions, run_ledger_kill, run_ledger_replay
from kith.faults.matcher_kill import MatcherKillOptions, run_matcher_kill
from kith.faults.ops_kill import OpsKillOptions, run_ops_kill
from kith.faults.partners_kill import PartnersKillOptions, run_partners_kill
from kith.faults.platform import platform
from kith.faults.poison import POISON, run_poison
from kith.faults.relay_kill import RelayKillOptions, run_relay_kill
from kith.seeding import BASIC_VETTING
from tests.support import eventually

pytestmark = pytest.mark.e2e


async def test_poison_on_every_topic_is_dead_lettered_and_each_partition_carries_on(
    tmp_path: Path,
) -> None:
    result = await run_poison(tmp_path)

    assert result.lost == 0, result.details["lost"]
    assert result.duplicate_effects == 0
    assert result.checked >= 2 * len(POISON) * len(result.details["topics"])
    reasons = result.details["reasons"]
    assert set(reasons) == {kind for kind, _ in POISON}
    assert all(reasons.values()), "every kind of poison is dead-lettered with a reason"


async def test_booking_killed_twice_while_booking_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    result = await run_relay_kill(tmp_path, RelayKillOptions(bookings=200, kills=2, helpers=8))

    assert len(result.details["kills"]) == 2, "booking was killed twice mid-stream"
    assert result.checked == 200 - result.details["accepts_refused"]
    assert result.details["accepts_refused"] == 0, result.details["refusals"]
    assert result.lost == 0, result.details
    assert result.duplicate_effects == 0, result.details["duplicates"]


async def test_the_database_killed_twice_while_booking_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    result = await run_relay_kill(
        tmp_path, RelayKillOptions(bookings=200, kills=2, helpers=8, victim="database")
    )

    assert len(result.details["kills"]) == 2, "PostgreSQL was killed twice mid-stream"
    assert result.details["services_restarted"] == [], "every service carried on by itself"
    assert result.checked == 200 - result.details["accepts_refused"]
    assert result.details["accepts_refused"] == 0, result.details["refusals"]
    assert result.lost == 0, result.details
    assert result.duplicate_effects == 0, result.details["duplicates"]


async def test_the_surviving_matcher_takes_over_the_killed_ones_partitions(
    tmp_path: Path,
) -> None:
    result = await run_matcher_kill(tmp_path, MatcherKillOptions(requests=200, rate=20))

    assert result.checked == 200
    assert result.details["victim_partitions"], "the killed worker had partitions of its own"
    assert result.details["rebalance_s"] is not None, "the survivor offered the victim's requests"
    assert result.duplicate_effects == 0, result.details["duplicates"]
    assert result.lost == 0, result.details


async def test_the_console_killed_mid_flow_shows_every_event_and_the_same_figures(
    tmp_path: Path,
) -> None:
    result = await run_ops_kill(tmp_path, OpsKillOptions(requests=60, rate=10))

    assert result.details["reconnects"] >= 1, "the operator's stream was cut by the kill"
    assert result.details["events_on_topics"] >= 60
    assert result.lost == 0, result.details
    assert result.duplicate_effects == 0, result.details


async def test_the_ledger_killed_mid_stream_and_replayed_posts_each_visit_exactly_once(
    tmp_path: Path,
) -> None:
    async with platform(tmp_path) as running:
        killed = await run_ledger_kill(running, LedgerFaultOptions(visits=200, kills=1))
        replayed = await run_ledger_replay(running, LedgerFaultOptions())

    assert len(killed.details["kills"]) == 1, "the ledger was killed mid-stream"
    assert killed.checked == 200
    assert killed.lost == 0, killed.details
    assert killed.duplicate_effects == 0, killed.details["duplicated"]
    assert killed.details["balanced"] is True
    assert replayed.details["partitions_reset"] == 8
    assert replayed.checked >= 200, "the replay read every posting's visit again"
    assert replayed.duplicate_effects == 0, replayed.details
    assert replayed.details["entries_after"] == replayed.details["entries_before"]
    assert replayed.lost == 0, replayed.details


async def test_either_of_two_booking_processes_killed_under_the_flow_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    result = await run_booking_kill(tmp_path, FlowKillOptions(visits=40, kills=2, helpers=4))

    kills = result.details["kills"]
    assert [k["process"] for k in kills] == ["booking", "booking-2"], "each process died once"
    assert result.details["refused"] == 0, result.details["refusals"]
    assert result.details["writes_acknowledged"]["answer"] == 80, "every visit went through"
    assert result.checked == 40 * 5 + 6 * len(BASIC_VETTING)
    assert result.lost == 0, result.details
    assert result.duplicate_effects == 0, result.details["duplicates"]


async def test_trust_killed_under_the_flow_applies_every_effect_once(tmp_path: Path) -> None:
    result = await run_trust_kill(tmp_path, FlowKillOptions(visits=40, kills=2, helpers=4))

    assert len(result.details["kills"]) == 2, "trust was killed twice mid-flow"
    assert result.details["refused"] == 0, result.details["refusals"]
    assert result.details["writes_acknowledged"]["concern"] == 8
    assert result.details["writes_acknowledged"]["resolve"] == 4
    assert result.lost == 0, result.details
    assert result.duplicate_effects == 0, result.details["duplicates"]


async def test_the_partners_gateway_killed_mid_traffic_loses_no_referral_and_no_webhook(
    tmp_path: Path,
) -> None:
    result = await run_partners_kill(tmp_path, PartnersKillOptions(referrals=60, rate=10, kills=2))

    assert len(result.details["kills"]) == 2, "the gateway was killed twice mid-traffic"
    assert result.details["referrals_acknowledged"] == {"http": 30, "inbox": 30}
    assert result.details["requests_for_referred"] == 60, "each referral made one request"
    assert result.details["feed_events"] >= 60, "each referral's request reached the feed"
    assert result.lost == 0, result.details
    assert result.duplicate_effects == 0, result.details["duplicates"]


async def test_random_processes_killed_at_random_moments_strand_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    result = await run_crash_anywhere(
        tmp_path, CrashAnywhereOptions(visits=30, crashes=4, referrals=20, helpers=4, seed=3)
    )

    killed = [kill["process"] for kill in result.details["kills"]]
    assert len(set(killed)) == 4, f"four different processes were killed mid-flow: {killed}"
    assert result.details["stranded_visits"] == 0, result.details["flow"]["refusals"]
    warnings = [
        line
        for line in (tmp_path / "logs" / "matching.log").read_text().splitlines()
        if '"level": "warning"' in line
    ]
    assert result.details["matching_read_every_request_and_booking"], (
        result.details["matching_lag"],
        warnings[-12:],
    )
    assert result.lost == 0, result.details
    assert result.duplicate_effects == 0, result.details


async def test_a_faults_run_stopped_by_sigterm_stops_every_process_it_started(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "faults.log"
    with log_path.open("wb") as log:
        run = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "kith.cli", "faults", "--scenario", "poison", "--json"),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        parent = psutil.Process(run.pid)

        async def services_up() -> list[psutil.Process] | None:
            started = parent.children(recursive=True)
            names = " ".join(_command_line(child) for child in started)
            return started if "services.booking" in names and "services.trust" in names else None

        started = await eventually(services_up, timeout_s=120, interval_s=0.2)
        run.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(run.wait(), 60)
    finally:
        if run.returncode is None:
            run.kill()
    assert code == 128 + signal.SIGTERM, log_path.read_text()[-2000:]
    left = [child for child in started if _alive(child)]
    assert not left, [_command_line(child) for child in left]
    folder = re.search(r"folder=(\S+)", log_path.read_text())
    assert folder is not None
    assert not await asyncio.to_thread(Path(folder.group(1)).exists), "its folder is removed"
    logs = Path(f"{folder.group(1)}-logs")
    assert not await asyncio.to_thread(logs.exists), "a stopped run is no failure: no logs kept"


def _command_line(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # it ended meanwhile
        return ""


def _alive(process: psutil.Process) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
