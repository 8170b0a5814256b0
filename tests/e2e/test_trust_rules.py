"""Trust's rules end to end, through `kith up`'s real processes, broker and database.

A "not again" keeps a pair apart for good; a concern suspends a helper at once and flags
their upcoming bookings (a lapsed vetting approval: ``test_trust_alone``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import pytest

from kith.client import send
from kith.demo import Person, ask_for_help
from shared.contracts.topics import RELATIONSHIPS, STANDING
from tests.conftest import Stack
from tests.e2e.support import (
    Api,
    Street,
    book_first_request,
    kith_up,
    matching_caught_up,
    new_street,
    offered_to_all,
    offers_of_request,
    open_offers,
    standing,
)
from tests.integration.booking.support import listening
from tests.support import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def api(module_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    # A broker and database of the module's own (``fresh_stack``).
    async with kith_up(module_stack, tmp_path_factory.mktemp("kith")) as (url, token):
        yield Api(url, {"Authorization": f"Bearer {token}"}, module_stack.bootstrap)


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
