"""Trust's rules that need a Kith of their own: approvals that lapse within seconds, and the
concern benchmark, which starts its own stack.

Their own module, so that no other module's Kith runs beside theirs (two Kiths on one stack
would share consumer groups and databases): pytest ends a module's fixtures before the next
module starts, whatever order the modules run in.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import httpx
import pytest

from kith.bench.concern import run_bench
from kith.client import send
from kith.demo import ask_for_help
from shared.contracts.topics import STANDING
from tests.conftest import Stack
from tests.e2e.support import (
    Api,
    approved_for_shopping,
    kith_up,
    matching_caught_up,
    new_street,
    open_offers,
    vet_helper,
)
from tests.support import eventually

pytestmark = pytest.mark.e2e


async def test_a_lapsed_vetting_approval_takes_the_helper_out_of_matching(
    own_stack: Stack, tmp_path: Path
) -> None:
    # A broker and database of its own: on a test worker's shared broker, matching first
    # reads every earlier test's history (see ``fresh_stack``).
    stack = own_stack
    valid_s = 5
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KITH_VETTING_VALID_S", str(valid_s))
        async with kith_up(stack, tmp_path) as (url, token):
            api = Api(url, {"Authorization": f"Bearer {token}"}, stack.bootstrap)
            async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
                street = await new_street(http, api, vet=False)
                helper = street.helpers[0]
                await vet_helper(http, api, helper)

                async def lapsed() -> bool:
                    return not await approved_for_shopping(http, api, helper)

                # Trust's sweep republishes the standing without the skill once it lapses.
                await eventually(lapsed, timeout_s=valid_s + 10, what="the approval to lapse")
                await eventually(
                    partial(matching_caught_up, api, STANDING), what="matching to read it"
                )
                request = await ask_for_help(http, street.neighbour, day=1)

                async def unmatched() -> bool:
                    path = "/v1/operator/requests?status=unmatched&limit=200"
                    items = (await send(http, "GET", path, api.operator))["items"]
                    return any(str(i["request_id"]) == request["request_id"] for i in items)

                await eventually(unmatched, what="the request escalated: nobody approved")
                assert await open_offers(http, street.helpers, request["request_id"]) == {}

                # Renewal: the steps recorded again bring the skill back.
                await vet_helper(http, api, helper)


async def test_the_concern_benchmark_runs_and_finds_no_offer_after_a_suspension(
    own_stack: Stack,
) -> None:
    figures = await run_bench(own_stack.settings(), concerns=2, timeout_s=20)
    summary = figures.summary()
    assert summary["concerns"] == 2
    assert summary["offers_after_suspension"] == 0
    assert 0 < summary["p50_ms"] <= summary["p99_ms"]
