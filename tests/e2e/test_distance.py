"""Distance, not cells: a helper is asked when the neighbour is within their travel radius,
whichever neighbourhood cell either lives in; through `kith up`'s real processes.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import pytest

from kith.client import send
from kith.demo import MATCHING_CATCH_UP_S, ask_for_help, matching_knows_people, sign_up
from shared.geo import cell_of, distance_km, neighbourhood_of
from tests.conftest import Stack
from tests.e2e.support import EVERY_DAY, Api, kith_up, open_offers, vet_helper
from tests.support import eventually

pytestmark = pytest.mark.e2e

#: How far from the edge each home is: the two are a few hundred metres apart.
_FROM_EDGE_M = 200


@pytest.fixture(scope="module")
async def api(module_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    # A broker and database of the module's own (``fresh_stack``).
    async with kith_up(module_stack, tmp_path_factory.mktemp("kith")) as (url, token):
        yield Api(url, {"Authorization": f"Bearer {token}"}, module_stack.bootstrap)


def across_an_edge(rng: random.Random) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two homes a few hundred metres apart, in two adjacent neighbourhood cells."""
    while True:
        lat, lng = rng.uniform(51.0, 55.0), rng.uniform(-3.0, 0.0)
        home = neighbourhood_of(lat, lng)
        # Walk east in 20 m steps to the first point of another neighbourhood: the edge.
        step = 20 / 69_000
        east = lng
        while neighbourhood_of(lat, east) == home:
            east += step
        here = (lat, east - _FROM_EDGE_M / 69_000)
        there = (lat, east + _FROM_EDGE_M / 69_000)
        cells = cell_of(*here), cell_of(*there)
        if (
            neighbourhood_of(*here) == home
            and neighbourhood_of(*there) != home
            and distance_km(*cells) < 0.8
        ):
            return here, there


async def offered(http: httpx.AsyncClient, helper: Any, request_id: str) -> dict[str, Any] | None:
    return (await open_offers(http, [helper], request_id)).get(helper.person_id)


async def request_status(http: httpx.AsyncClient, person: Any, request_id: str) -> str:
    found = await send(http, "GET", f"/v1/requests/{request_id}", person.headers)
    return str(found["status"])


async def test_a_helper_across_a_cell_edge_is_offered_and_their_booking_holds_everywhere(
    api: Api,
) -> None:
    rng = random.Random()
    helper_home, neighbour_home = across_an_edge(rng)
    assert neighbourhood_of(*helper_home) != neighbourhood_of(*neighbour_home)
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
        helper = await sign_up(http, f"Ada ({run})", helper_home, ["shopping"], run)
        await send(http, "PUT", "/v1/me/availability", helper.headers, json={"rules": EVERY_DAY})
        await vet_helper(http, api, helper)
        neighbour = await sign_up(http, f"Mrs Okafor ({run})", neighbour_home, [], run)
        # The helper's next-door neighbour, in the helper's own cell.
        next_door = await sign_up(http, f"Mr Bello ({run})", helper_home, [], run)
        await eventually(
            partial(matching_knows_people, api.bootstrap),
            timeout_s=MATCHING_CATCH_UP_S,
            what="matching to file the helper in every cell within reach",
        )

        request = await ask_for_help(http, neighbour, day=1)
        offer = await eventually(
            partial(offered, http, helper, request["request_id"]),
            what="the request offered to the helper across the edge",
        )
        codes = {reason["code"] for reason in offer["reasons"]}
        assert "nearby" in codes
        distance = next(r["text"] for r in offer["reasons"] if r["code"] == "nearby")
        assert distance.endswith("km away")
        assert float(distance.split()[0]) < 1.0
        # Both speak English (the demo's sign-up): the offer says so.
        spoken = [r["text"] for r in offer["reasons"] if r["code"] == "shared_language"]
        assert spoken == ["Speaks English"]

        # Booked from the neighbour's cell, the hour is busy in the helper's own cell too.
        await send(http, "POST", f"/v1/offers/{offer['offer_id']}/accept", helper.headers)
        await eventually(
            partial(matching_knows_people, api.bootstrap),
            timeout_s=MATCHING_CATCH_UP_S,
            what="matching to file the booking in every copy of the helper",
        )
        same_hour = await ask_for_help(http, next_door, day=1)
        assert same_hour["starts_at"] == request["starts_at"]

        async def escalated() -> bool:
            return await request_status(http, next_door, same_hour["request_id"]) == "unmatched"

        await eventually(escalated, what="the same hour escalated: the helper is busy")
        assert await offered(http, helper, same_hour["request_id"]) is None
