"""Operators decide each visit a suspension held: call it off, ask for it again, or keep it,
each with a reason on the audit trail and notices to the people concerned, through booking's
real API, its real consumer path for trust's standing, the real broker and a real database."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.booking.service_layer import events
from shared.contracts import Envelope
from shared.contracts.bookings import BookingKept
from shared.contracts.requests import HelpRequestCancelled, HelpRequested
from shared.contracts.topics import BOOKINGS, REQUESTS
from shared.contracts.trust import StandingChanged
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import (
    TopicReader,
    booked,
    future_hour,
    listening,
    seed_offer,
    served,
    sign_up,
    signed_in_operator,
)

BOOTSTRAP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def _standing(booking: Booking, person_id: str, *, suspended: bool) -> None:
    """Trust's word on a person, applied through booking's own consumer path."""
    change = StandingChanged(person_id=uuid.UUID(person_id), suspended=suspended)
    await events.apply(booking.runtime.uow, Envelope.wrap(change, producer="trust"))


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _flagged(booking: Booking, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    found = await _get(booking.client, "/v1/operator/bookings/flagged?limit=200", headers)
    return {str(item["booking_id"]): item for item in found["items"]}


async def _decide(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    booking_id: str,
    decision: str,
    key: str | None = None,
) -> httpx.Response:
    return await client.post(
        f"/v1/operator/bookings/{booking_id}/decision",
        headers={**headers, **({"Idempotency-Key": key} if key else {})},
        json={"decision": decision, "reason": f"{decision}: agreed with both by phone"},
    )


def _refused(response: httpx.Response, saying: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert saying in response.json()["detail"]


async def _trail(booking: Booking, booking_id: str) -> list[dict[str, Any]]:
    found = await _get(booking.client, f"/v1/operator/audit?subject_id={booking_id}", BOOTSTRAP)
    return [entry for entry in found["items"] if entry["action"].startswith("flagged_visit.")]


async def test_a_held_visit_is_kept_with_the_same_two_people_once_both_are_reinstated(
    booking: Booking,
) -> None:
    client, uow = booking.client, booking.runtime.uow
    coordinator, account = await signed_in_operator(client, BOOTSTRAP, "Cora Lane")
    _, neighbour = await sign_up(client, "Nell")
    helper_id, helper = await sign_up(client, "Hal")
    booking_id = await booked(client, uow, neighbour, helper_id, helper, future_hour(2))
    await _standing(booking, helper_id, suspended=True)

    listed = (await _flagged(booking, coordinator))[booking_id]
    assert (listed["helper_name"], listed["neighbour_name"]) == ("Hal", "Nell")
    assert (listed["helper_suspended"], listed["neighbour_suspended"]) == (True, False)
    assert listed["request_status"] == "open"  # asked for again at once
    _refused(await _decide(client, coordinator, booking_id, "keep"), "helper is still suspended")

    await _standing(booking, helper_id, suspended=False)
    # Reinstatement does not decide the visit: it waits on the list for an operator.
    assert (await _flagged(booking, coordinator))[booking_id]["helper_suspended"] is False

    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        listening(http, neighbour, helper) as (nell, hal),
        TopicReader(booking.settings.require_bootstrap(), BOOKINGS.name) as bookings,
    ):
        kept = await _decide(client, coordinator, booking_id, "keep", key="keep-1")
        assert kept.status_code == 200, kept.text
        assert (kept.json()["status"], kept.json()["request_status"]) == ("confirmed", "booked")
        for listener in (nell, hal):
            assert await listener.next() == (
                "booking.kept",
                {"booking_id": booking_id, "request_id": kept.json()["request_id"]},
            )
        [event] = await bookings.wait_for(
            lambda e: isinstance(e.data, BookingKept) and str(e.data.booking_id) == booking_id,
            what="the kept visit confirmed again",
        )
        assert isinstance(event.data, BookingKept)
        assert str(event.data.helper_id) == helper_id
        assert "phone" not in event.model_dump_json()  # the reason travels nowhere

    visit = await _get(client, f"/v1/bookings/{booking_id}", helper)
    assert (visit["status"], visit["held"]) == ("confirmed", False)
    request = await _get(client, f"/v1/requests/{visit['request_id']}", neighbour)
    assert request["status"] == "booked"
    assert booking_id not in await _flagged(booking, coordinator)
    # A retry with the same key answers the same; another decision finds it decided.
    again = await _decide(client, coordinator, booking_id, "keep", key="keep-1")
    assert again.json() == kept.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    _refused(await _decide(client, coordinator, booking_id, "cancel"), "decided already")

    [entry] = await _trail(booking, booking_id)
    assert (entry["action"], entry["operator"], entry["operator_id"]) == (
        "flagged_visit.keep",
        "Cora Lane",
        str(account["operator_id"]),
    )
    assert entry["reason"] == "keep: agreed with both by phone"


async def test_a_visit_is_not_kept_when_its_helpers_hours_or_its_request_were_taken(
    booking: Booking,
) -> None:
    client, uow = booking.client, booking.runtime.uow
    _, neighbour = await sign_up(client, "Nia")
    helper_id, helper = await sign_up(client, "Huw")
    when = future_hour(3)
    held_id = await booked(client, uow, neighbour, helper_id, helper, when)
    await _standing(booking, helper_id, suspended=True)
    await _standing(booking, helper_id, suspended=False)
    # Reinstated, the helper takes another neighbour's visit at the same hour.
    _, other = await sign_up(client, "Olwen")
    await booked(client, uow, other, helper_id, helper, when)
    _refused(await _decide(client, BOOTSTRAP, held_id, "keep"), "hours are no longer free")

    # Another held visit whose request someone else took since.
    second_id = await booked(client, uow, neighbour, helper_id, helper, future_hour(4))
    request_id = (await _get(client, f"/v1/bookings/{second_id}", neighbour))["request_id"]
    await _standing(booking, helper_id, suspended=True)
    taker_id, taker = await sign_up(client, "Tomos")
    offer_id = await seed_offer(uow, request_id, taker_id)
    accepted = await client.post(f"/v1/offers/{offer_id}/accept", headers=taker)
    assert accepted.status_code == 201, accepted.text
    await _standing(booking, helper_id, suspended=False)
    for decision in ("keep", "reoffer"):
        _refused(await _decide(client, BOOTSTRAP, second_id, decision), "another helper since")

    # Calling it off still clears it, and leaves the new visit alone.
    called_off = await _decide(client, BOOTSTRAP, second_id, "cancel")
    assert called_off.status_code == 200, called_off.text
    assert called_off.json()["request_status"] == "booked"
    assert (await _get(client, f"/v1/requests/{request_id}", neighbour))["status"] == "booked"
    flagged = await _flagged(booking, BOOTSTRAP)
    assert second_id not in flagged
    assert held_id in flagged
    # A refusal writes no entry: only the one decision taken is on record.
    assert [e["action"] for e in await _trail(booking, second_id)] == ["flagged_visit.cancel"]
    assert await _trail(booking, held_id) == []


async def test_a_suspended_neighbours_visit_is_called_off_and_both_sides_told(
    booking: Booking,
) -> None:
    client, uow = booking.client, booking.runtime.uow
    lead, _ = await signed_in_operator(client, BOOTSTRAP, "Sam Reid", "safeguarding_lead")
    neighbour_id, neighbour = await sign_up(client, "Nesta")
    helper_id, helper = await sign_up(client, "Heledd")
    booking_id = await booked(client, uow, neighbour, helper_id, helper, future_hour(2))
    request_id = (await _get(client, f"/v1/bookings/{booking_id}", neighbour))["request_id"]
    await _standing(booking, neighbour_id, suspended=True)
    assert (await _flagged(booking, lead))[booking_id]["request_status"] == "held"
    _refused(await _decide(client, lead, booking_id, "reoffer"), "neighbour is suspended")
    _refused(await _decide(client, lead, booking_id, "keep"), "neighbour is still suspended")

    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        listening(http, neighbour, helper) as (nesta, heledd),
    ):
        called_off = await _decide(client, lead, booking_id, "cancel")
        assert called_off.status_code == 200, called_off.text
        told = ("booking.cancelled", {"booking_id": booking_id, "request_id": request_id})
        assert await nesta.next() == told
        assert await heledd.next() == told

    assert called_off.json()["request_status"] == "cancelled"
    assert (await _get(client, f"/v1/requests/{request_id}", neighbour))["status"] == "cancelled"
    assert booking_id not in await _flagged(booking, lead)
    # Reinstated later, nothing of that visit comes back.
    await _standing(booking, neighbour_id, suspended=False)
    assert (await _get(client, f"/v1/requests/{request_id}", neighbour))["status"] == "cancelled"
    [entry] = await _trail(booking, booking_id)
    assert (entry["action"], entry["operator"]) == ("flagged_visit.cancel", "Sam Reid")


async def test_a_called_off_visit_closes_its_offered_request_and_a_reoffer_asks_again(
    booking: Booking,
) -> None:
    client, uow = booking.client, booking.runtime.uow
    _, neighbour = await sign_up(client, "Non")
    helper_id, helper = await sign_up(client, "Hefin")
    first = await booked(client, uow, neighbour, helper_id, helper, future_hour(5))
    second = await booked(client, uow, neighbour, helper_id, helper, future_hour(6))
    await _standing(booking, helper_id, suspended=True)
    first_request = (await _get(client, f"/v1/bookings/{first}", neighbour))["request_id"]
    second_request = (await _get(client, f"/v1/bookings/{second}", neighbour))["request_id"]
    # Matching found nobody for the second and escalated it to operators.
    async with uow.begin() as repo:
        await repo.set_request_status(uuid.UUID(second_request), "unmatched")

    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        listening(http, neighbour) as (non,),
        TopicReader(booking.settings.require_bootstrap(), REQUESTS.name) as requests,
    ):
        asked_before = await requests.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequested) and str(e.data.request_id) == second_request
            ),
            count=2,  # when made, and again when the suspension held its visit
        )
        called_off = await _decide(client, BOOTSTRAP, first, "cancel")
        assert called_off.status_code == 200, called_off.text
        assert await non.next() == (
            "booking.cancelled",
            {"booking_id": first, "request_id": first_request},
        )
        await requests.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequestCancelled) and str(e.data.request_id) == first_request
            ),
            what="matching told the request is off",
        )

        reoffered = await _decide(client, BOOTSTRAP, second, "reoffer")
        assert reoffered.status_code == 200, reoffered.text
        assert reoffered.json()["request_status"] == "open"
        assert await non.next() == (
            "request.reopened",
            {"booking_id": second, "request_id": second_request},
        )
        await requests.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequested) and str(e.data.request_id) == second_request
            ),
            count=len(asked_before) + 1,
            what="the request asked for again",
        )

    assert (await _get(client, f"/v1/requests/{first_request}", neighbour))["status"] == (
        "cancelled"
    )
    assert (await _get(client, f"/v1/requests/{second_request}", neighbour))["status"] == "open"
    flagged = await _flagged(booking, BOOTSTRAP)
    assert first not in flagged
    assert second not in flagged
    actions = [e["action"] for e in await _trail(booking, second)]
    assert actions == ["flagged_visit.reoffer"]
