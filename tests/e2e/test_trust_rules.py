"""Trust's rules end to end, through `kith up`'s real processes, broker and database.

A "not again" keeps a pair apart for good; a concern suspends a helper at once and flags
their upcoming bookings; a lapsed vetting approval takes the helper out of matching.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from kith.bench.concern import run_bench
from kith.client import send
from kith.demo import MATCHING_GROUP, Person, ask_for_help, sign_up
from shared.contracts.topics import RELATIONSHIPS, STANDING
from shared.geo import cell_of
from shared.messaging import group_caught_up
from tests.conftest import Stack
from tests.e2e.test_whole_flow import kith_up
from tests.integration.booking.support import listening
from tests.support import eventually

pytestmark = pytest.mark.e2e

_STEPS = ("identity", "references", "interview", "background_check")
_EVERY_DAY = [
    {"weekday": day, "start": "08:00", "end": "20:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


@dataclass(frozen=True)
class Api:
    """A running Kith: its API and the operators' headers."""

    url: str
    operator: dict[str, str]
    bootstrap: str


@dataclass(frozen=True)
class Street:
    """A neighbour and three helpers around them, somewhere no other test lives."""

    neighbour: Person
    helpers: list[Person]


@pytest.fixture(scope="module")
async def api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    async with kith_up(stack, tmp_path_factory.mktemp("kith")) as (url, token):
        yield Api(url, {"Authorization": f"Bearer {token}"}, stack.bootstrap)


async def new_street(http: httpx.AsyncClient, api: Api, *, vet: bool = True) -> Street:
    """Sign up a neighbour and three helpers in a fresh corner of Britain; vet the helpers."""
    rng = random.Random()
    centre = (rng.uniform(51.0, 55.0), rng.uniform(-3.0, 0.0))
    run = uuid.uuid4().hex[:6]
    # All four in one street cell: matching offers a request to its neighbourhood's helpers,
    # and one round reaches every helper only when they are all about as near the neighbour.
    while True:
        homes = [
            (centre[0] + rng.uniform(-0.0005, 0.0005), centre[1] + rng.uniform(-0.0007, 0.0007))
            for _ in range(4)
        ]
        if len({cell_of(*home) for home in homes}) == 1:
            break
    helpers = [
        await sign_up(http, f"{name} ({run})", home, ["shopping"], run)
        for name, home in zip(("Ada", "Bilal", "Chen"), homes, strict=False)
    ]
    for helper in helpers:
        await send(http, "PUT", "/v1/me/availability", helper.headers, json={"rules": _EVERY_DAY})
        if vet:
            await vet_helper(http, api, helper)
    neighbour = await sign_up(http, f"Mrs Okafor ({run})", homes[3], [], run)
    return Street(neighbour, helpers)


async def vet_helper(http: httpx.AsyncClient, api: Api, helper: Person) -> None:
    """Record every vetting step, and wait until trust's approval reaches booking."""
    for step in _STEPS:
        path = f"/v1/operator/people/{helper.person_id}/vetting-steps"
        await send(http, "POST", path, api.operator, json={"step": step})
    await eventually(
        partial(approved_for_shopping, http, api, helper), what=f"{helper.name} approved"
    )


async def standing(http: httpx.AsyncClient, api: Api, person: Person) -> dict[str, Any]:
    """Trust's standing for a person, as operators read it."""
    found = await send(http, "GET", f"/v1/operator/people/{person.person_id}", api.operator)
    return dict(found.get("standing") or {})


async def approved_for_shopping(http: httpx.AsyncClient, api: Api, person: Person) -> bool:
    return "shopping" in ((await standing(http, api, person)).get("approved_skills") or {})


async def open_offers(
    http: httpx.AsyncClient, helpers: list[Person], request_id: str
) -> dict[str, dict[str, Any]]:
    """Each helper's open offer of one request, by person id."""
    found: dict[str, dict[str, Any]] = {}
    for helper in helpers:
        for offer in (await send(http, "GET", "/v1/offers", helper.headers))["items"]:
            if offer["request_id"] == request_id and offer["status"] == "open":
                found[helper.person_id] = offer
    return found


async def offers_of_request(http: httpx.AsyncClient, street: Street, request_id: str) -> str:
    """Every offer of one request, in any status, per helper: what a failed wait saw."""
    seen = []
    for index, helper in enumerate(street.helpers):
        items = (await send(http, "GET", "/v1/offers", helper.headers))["items"]
        mine = [(o["round"], o["status"]) for o in items if o["request_id"] == request_id]
        seen.append(f"helper {index}: {mine or 'no offer'}")
    return ", ".join(seen)


async def offered_to_all(
    http: httpx.AsyncClient, helpers: list[Person], request_id: str
) -> dict[str, dict[str, Any]] | None:
    offers = await open_offers(http, helpers, request_id)
    return offers if len(offers) == len(helpers) else None


async def book_first_request(http: httpx.AsyncClient, street: Street) -> tuple[Person, str]:
    """The neighbour asks; the first helper offered accepts; return them and the booking."""
    request = await ask_for_help(http, street.neighbour, day=1)
    offers = await eventually(
        partial(open_offers, http, street.helpers, request["request_id"]),
        what="an offer of the first request",
    )
    helper = next(h for h in street.helpers if h.person_id in offers)
    offer_id = offers[helper.person_id]["offer_id"]
    booking = await send(http, "POST", f"/v1/offers/{offer_id}/accept", helper.headers)
    return helper, str(booking["booking_id"])


async def matching_caught_up(api: Api, topic: Any) -> bool:
    return await group_caught_up(api.bootstrap, MATCHING_GROUP, topic)


async def only_others_offered(
    http: httpx.AsyncClient, api: Api, street: Street, excluded: Person
) -> None:
    """The neighbour's next request goes to every other helper and never to ``excluded``."""
    others = [h for h in street.helpers if h is not excluded]
    request = await ask_for_help(http, street.neighbour, day=8)
    try:
        await eventually(
            partial(offered_to_all, http, others, request["request_id"]),
            what="the next request offered to the other helpers",
        )
    except AssertionError as failed:
        raise AssertionError(
            f"{failed}; {await offers_of_request(http, street, request['request_id'])}"
        ) from None
    # The round that offered the others is the widest there is (three helpers, at most three
    # offered at once), and no helper is left untried for a later one.
    assert await open_offers(http, [excluded], request["request_id"]) == {}


# The two tests below start a Kith of their own (short approvals; the benchmark's own), so they
# come before the tests sharing the module's Kith: two Kiths on one stack would share consumer
# groups and databases. Tests run in file order; the module's Kith starts at its first use.


async def test_a_lapsed_vetting_approval_takes_the_helper_out_of_matching(
    stack: Stack, tmp_path: Path
) -> None:
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
    stack: Stack,
) -> None:
    figures = await run_bench(stack.settings(), concerns=2, timeout_s=20)
    summary = figures.summary()
    assert summary["concerns"] == 2
    assert summary["offers_after_suspension"] == 0
    assert 0 < summary["p50_ms"] <= summary["p99_ms"]


@pytest.mark.parametrize("says_no", ["helper", "neighbour"])
async def test_not_again_from_either_side_means_no_offer_for_that_pair_again(
    api: Api, says_no: str
) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
        street = await new_street(http, api)
        helper, booking_id = await book_first_request(http, street)
        await send(http, "POST", f"/v1/bookings/{booking_id}/check-in", helper.headers)
        await send(http, "POST", f"/v1/bookings/{booking_id}/check-out", helper.headers)
        for person, side in ((helper, "helper"), (street.neighbour, "neighbour")):
            answer = "no" if side == says_no else "yes"
            await send(
                http,
                "POST",
                f"/v1/bookings/{booking_id}/check-ins",
                person.headers,
                json={"see_again": answer, "as_agreed": "yes"},
            )

        async def ended() -> bool:
            path = f"/v1/operator/relationships?person_id={street.neighbour.person_id}"
            records = (await send(http, "GET", path, api.operator))["items"]
            return any(
                str(r["helper_id"]) == helper.person_id and not r["matchable"] for r in records
            )

        await eventually(ended, what="the pair no longer matchable")
        await eventually(
            partial(matching_caught_up, api, RELATIONSHIPS), what="matching to read the pair"
        )
        await only_others_offered(http, api, street, helper)


async def test_a_concern_suspends_the_helper_and_flags_their_upcoming_bookings(
    api: Api,
) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
        street = await new_street(http, api)
        helper, booking_id = await book_first_request(http, street)
        stranger = street.helpers[2] if street.helpers[2] is not helper else street.helpers[1]
        refused = await http.post(
            "/v1/concerns",
            headers=street.neighbour.headers,
            json={"about_id": stranger.person_id, "summary": "never met"},
        )
        assert refused.status_code == 404, "a concern needs a booking with the person"

        raised = await send(
            http,
            "POST",
            "/v1/concerns",
            street.neighbour.headers,
            json={
                "about_id": helper.person_id,
                "booking_id": booking_id,
                "summary": "They were rude to me on the phone.",
            },
        )

        async def flagged() -> bool:
            items = (await send(http, "GET", "/v1/operator/bookings/flagged", api.operator))[
                "items"
            ]
            return any(str(item["booking_id"]) == booking_id for item in items)

        await eventually(flagged, what="the helper's upcoming booking flagged")
        assert (await standing(http, api, helper))["suspended"]
        listed = await send(http, "GET", "/v1/operator/concerns?status=open", api.operator)
        assert raised["concern_id"] in {str(item["concern_id"]) for item in listed["items"]}

        await eventually(
            partial(matching_caught_up, api, STANDING), what="matching to read the suspension"
        )
        await only_others_offered(http, api, street, helper)

        path = f"/v1/operator/concerns/{raised['concern_id']}/resolve"
        body = {"outcome": "reinstate", "reason": "A misunderstanding, resolved by phone."}
        await send(http, "POST", path, api.operator, json=body)
        assert (await http.post(path, headers=api.operator, json=body)).status_code == 409

        async def reinstated() -> bool:
            return not (await standing(http, api, helper))["suspended"]

        await eventually(reinstated, what="the helper reinstated")


async def _offered_elsewhere(
    http: httpx.AsyncClient, street: Street, gone: Person, request_id: str
) -> dict[str, dict[str, Any]]:
    """Wait until the request is offered to the helpers other than ``gone``; never to them."""
    others = [h for h in street.helpers if h is not gone]
    try:
        offers = await eventually(
            partial(offered_to_all, http, others, request_id),
            what="the visit offered again to the other helpers",
        )
    except AssertionError as failed:
        raise AssertionError(
            f"{failed}; {await offers_of_request(http, street, request_id)}"
        ) from None
    assert await open_offers(http, [gone], request_id) == {}
    return offers


async def test_a_helpers_cancellation_is_offered_again_and_the_neighbour_is_told(
    api: Api,
) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        street = await new_street(http, api)
        helper, booking_id = await book_first_request(http, street)
        visit = await send(http, "GET", f"/v1/bookings/{booking_id}", street.neighbour.headers)
        request_id = str(visit["request_id"])
        async with listening(http, street.neighbour.headers) as (neighbour,):
            path = f"/v1/bookings/{booking_id}/cancel"
            await send(http, "POST", path, helper.headers, json={"reason": "my car broke down"})
            assert await neighbour.next() == (
                "booking.cancelled",
                {"booking_id": booking_id, "request_id": request_id},
            )
            offers = await _offered_elsewhere(http, street, helper, request_id)
            # The neighbour hears that it is being offered, as for any request.
            assert await neighbour.next() == ("request.offered", {"request_id": request_id})
        for offer in offers.values():
            assert offer["round"] > 1  # a new ask of the request: rounds go on counting
            assert all(street.neighbour.name not in r["text"] for r in offer["reasons"])
        taker = next(h for h in street.helpers if h.person_id in offers)
        offer_id = offers[taker.person_id]["offer_id"]
        rebooked = await send(http, "POST", f"/v1/offers/{offer_id}/accept", taker.headers)
        assert rebooked["booking_id"] != booking_id


async def test_a_suspended_helpers_visit_is_held_and_offered_to_someone_else(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        street = await new_street(http, api)
        helper, booking_id = await book_first_request(http, street)
        visit = await send(http, "GET", f"/v1/bookings/{booking_id}", helper.headers)
        assert "address" in visit["neighbour"]
        await send(
            http,
            "POST",
            "/v1/concerns",
            street.neighbour.headers,
            json={"about_id": helper.person_id, "summary": "They asked me for my bank card."},
        )

        async def held() -> dict[str, Any] | None:
            seen = await send(http, "GET", f"/v1/bookings/{booking_id}", helper.headers)
            return seen if seen["held"] else None

        shown = await eventually(held, what="the suspended helper's visit held")
        assert "address" not in shown["neighbour"]
        assert "phone" not in shown["neighbour"]
        check_in = await http.post(f"/v1/bookings/{booking_id}/check-in", headers=helper.headers)
        assert check_in.status_code == 403
        await _offered_elsewhere(http, street, helper, str(visit["request_id"]))
