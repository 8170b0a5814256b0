"""A suspension protects visits already booked, on both sides, through booking's real API,
the real broker and a real database (trust's part is played by publishing its standing)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared.contracts import Envelope
from shared.contracts.bookings import BookingCancelled
from shared.contracts.requests import HelpRequestCancelled, HelpRequested
from shared.contracts.topics import BOOKINGS, REQUESTS
from shared.contracts.trust import StandingChanged
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import (
    TopicReader,
    ask,
    booked,
    future_hour,
    listening,
    seed_offer,
    served,
    sign_up,
)

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def _standing(booking: Booking, person_id: str, *, suspended: bool) -> None:
    """Trust's word on a person, as trust publishes it after a concern or a reinstatement."""
    await booking.publisher.publish(
        Envelope.wrap(
            StandingChanged(person_id=uuid.UUID(person_id), suspended=suspended),
            producer="trust",
        )
    )


async def _visit(booking: Booking, headers: dict[str, str], booking_id: str) -> dict[str, Any]:
    response = await booking.client.get(f"/v1/bookings/{booking_id}", headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _request_status(booking: Booking, headers: dict[str, str], request_id: str) -> str:
    response = await booking.client.get(f"/v1/requests/{request_id}", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def test_a_suspended_helpers_visit_is_held_hidden_and_asked_for_again(
    booking: Booking,
) -> None:
    _, neighbour = await sign_up(booking.client, "Nora")
    helper_id, helper = await sign_up(booking.client, "Hugo")
    uow = booking.runtime.uow
    booking_id = await booked(booking.client, uow, neighbour, helper_id, helper, future_hour(1))
    request_id = str((await _visit(booking, neighbour, booking_id))["request_id"])
    assert "address" in (await _visit(booking, helper, booking_id))["neighbour"]
    # Another neighbour's request, offered to the helper but not yet answered.
    _, other = await sign_up(booking.client, "Olga")
    pending = (await ask(booking.client, other, future_hour(3), 1))["occurrences"][0]
    pending_offer = await seed_offer(uow, pending["request_id"], helper_id)

    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        listening(client, neighbour) as (nora,),
        TopicReader(booking.settings.require_bootstrap(), REQUESTS.name) as requests,
        TopicReader(booking.settings.require_bootstrap(), BOOKINGS.name) as bookings,
    ):
        asked_before = await requests.wait_for(
            lambda e: isinstance(e.data, HelpRequested) and str(e.data.request_id) == request_id
        )
        await _standing(booking, helper_id, suspended=True)

        assert await nora.next() == (
            "booking.cancelled",
            {"booking_id": booking_id, "request_id": request_id},
        )
        held = await _visit(booking, helper, booking_id)
        assert (held["status"], held["held"]) == ("cancelled", True)
        assert {"address", "phone", "accessibility_notes", "contact"}.isdisjoint(held["neighbour"])
        listed = (await booking.client.get("/v1/bookings", headers=helper)).json()["items"]
        assert all("address" not in item["neighbour"] for item in listed)

        refused = await booking.client.post(f"/v1/bookings/{booking_id}/check-in", headers=helper)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "paused" in refused.json()["detail"]

        # The visit is asked for again at once (a new ask, so matching offers it afresh), and
        # the bookings stream says only that Kith called it off.
        asked = await requests.wait_for(
            lambda e: isinstance(e.data, HelpRequested) and str(e.data.request_id) == request_id,
            count=len(asked_before) + 1,
        )
        assert asked[-1].event_id != asked_before[0].event_id
        assert await _request_status(booking, neighbour, request_id) == "open"
        [cancelled] = await bookings.wait_for(
            lambda e: isinstance(e.data, BookingCancelled) and str(e.data.booking_id) == booking_id
        )
        assert isinstance(cancelled.data, BookingCancelled)
        assert not cancelled.data.late
        # No reason travels at all (texts stay in booking), so none can name the concern.
        assert "concern" not in cancelled.model_dump_json().lower()

    inbox = (await booking.client.get("/v1/offers", headers=helper)).json()["items"]
    assert {o["offer_id"]: o["status"] for o in inbox}[pending_offer] == "withdrawn"
    flagged = (await booking.client.get("/v1/operator/bookings/flagged", headers=OPERATOR)).json()
    assert booking_id in {str(item["booking_id"]) for item in flagged["items"]}


async def test_a_suspended_neighbours_visits_and_requests_are_held_until_reinstated(
    booking: Booking,
) -> None:
    neighbour_id, neighbour = await sign_up(booking.client, "Nadia")
    helper_id, helper = await sign_up(booking.client, "Hamid")
    uow = booking.runtime.uow
    booking_id = await booked(booking.client, uow, neighbour, helper_id, helper, future_hour(2))
    booked_request = str((await _visit(booking, neighbour, booking_id))["request_id"])
    waiting = (await ask(booking.client, neighbour, future_hour(4), 1))["occurrences"][0]
    waiting_request = str(waiting["request_id"])
    offer_id = await seed_offer(uow, waiting_request, helper_id)

    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        listening(client, helper, neighbour) as (hamid, nadia),
        TopicReader(booking.settings.require_bootstrap(), REQUESTS.name) as requests,
    ):
        await _standing(booking, neighbour_id, suspended=True)

        # The helper is told their visit is off, and is sent to no request of hers.
        assert await hamid.next() == (
            "booking.cancelled",
            {"booking_id": booking_id, "request_id": booked_request},
        )
        assert (await _visit(booking, helper, booking_id))["held"] is True
        for request_id in (booked_request, waiting_request):
            assert await _request_status(booking, neighbour, request_id) == "held"
        await requests.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequestCancelled)
                and str(e.data.request_id) == waiting_request
            ),
            what="matching told the waiting request is off",
        )
        inbox = (await booking.client.get("/v1/offers", headers=helper)).json()["items"]
        assert {o["offer_id"]: o["status"] for o in inbox}[offer_id] == "withdrawn"
        refused = await booking.client.post(
            "/v1/requests",
            headers=neighbour,
            json={"skill": "shopping", "starts_at": future_hour(5).isoformat(), "hours": 1},
        )
        assert refused.status_code == 403, refused.text

        assert await nadia.next() == (
            "booking.cancelled",
            {"booking_id": booking_id, "request_id": booked_request},
        )
        await _standing(booking, neighbour_id, suspended=False)

        # Reinstated: both requests are open and asked for again, and she is told.
        told = [await nadia.next(), await nadia.next()]
        assert sorted((kind, data["request_id"]) for kind, data in told) == sorted(
            [("request.reopened", booked_request), ("request.reopened", waiting_request)]
        )
        for request_id in (booked_request, waiting_request):
            assert await _request_status(booking, neighbour, request_id) == "open"
        # Each asked for twice: once when made, once on reinstatement.
        asks = await requests.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequested)
                and str(e.data.request_id) in {booked_request, waiting_request}
            ),
            count=4,
        )
        assert len(asks) == 4
    # The held visit itself stays called off: its helper's hours went back to them.
    assert (await _visit(booking, neighbour, booking_id))["status"] == "cancelled"
