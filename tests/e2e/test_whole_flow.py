"""The first full flow, through `kith up`'s real processes, the real broker and database."""

from __future__ import annotations

from pathlib import Path

import pytest

from kith.demo import DemoFailed, run_demo
from tests.conftest import Stack
from tests.e2e.support import kith_up

pytestmark = pytest.mark.e2e


async def test_request_is_matched_booked_visited_and_remembered(
    own_stack: Stack, tmp_path: Path
) -> None:
    # A broker of its own: matching then reads only this run, not a worker's whole history
    # (on the shared broker it once waited minutes for the group's partitions).
    async with kith_up(own_stack, tmp_path) as (api, token):
        result = await run_demo(api, operator_token=token, kafka=own_stack.bootstrap, timeout_s=60)

    assert result.first_offer["reasons"], "an offer says why it was made"
    assert result.booking["booking_id"]
    assert result.relationship["stage"] == "first_visit"
    assert result.relationship["visits"] == 1
    assert [helper for helper, _ in result.second_offers] == [result.booking["helper_id"]], (
        "the next request goes to the helper both want to see again, alone"
    )
    codes = {reason["code"] for reason in result.second_offers[0][1]["reasons"]}
    assert codes & {"met_before", "regular_helper"}


async def test_two_booking_and_two_matching_processes_serve_one_flow(
    own_stack: Stack, tmp_path: Path
) -> None:
    state = tmp_path / "kith"
    replicas = {"booking": 2, "matching": 2}
    async with kith_up(own_stack, state, replicas=replicas) as (api, token):
        run = state / "run"
        listening = {(run / name).read_text() for name in ("booking.ready", "booking-2.ready")}
        result = await run_demo(api, operator_token=token, kafka=own_stack.bootstrap, timeout_s=60)

    assert listening == {f"booking {api}"}, "both booking processes listen on the one port"
    assert (run / "matching-2.ready").exists() is False, "kith up withdrew the ready marks"
    assert result.relationship["visits"] == 1
    assert [helper for helper, _ in result.second_offers] == [result.booking["helper_id"]]


@pytest.mark.parametrize("missing", ["booking", "matching", "trust"])
async def test_flow_fails_without_any_one_service(
    stack: Stack, tmp_path: Path, missing: str
) -> None:
    running = ",".join(name for name in ("booking", "matching", "trust") if name != missing)
    async with kith_up(stack, tmp_path, services=running) as (api, token):
        with pytest.raises(DemoFailed):
            await run_demo(api, operator_token=token, kafka=stack.bootstrap, timeout_s=8)
