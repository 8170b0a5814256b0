"""Operators assign or re-offer a waiting request: booking asks matching who could take it,
keeps matching's answer with the helpers' names, passes on the helper an operator chose, and
asks for an escalated request again; each action is on the audit trail with its reason.

Matching's part is played by the test's producer, on the real broker."""

from __future__ import annotations

import uuid
from typing import Any

from services.booking.service_layer import events
from shared.contracts import Envelope, Payload, utc_now
from shared.contracts.candidates import (
    Candidate,
    CandidatesAsked,
    CandidatesListed,
    OfferDirected,
    OfferDirectionRefused,
    PassedOver,
)
from shared.contracts.requests import HelpRequested, Reason, ReasonCode, RequestUnmatched
from shared.contracts.topics import REQUESTS
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import (
    TopicReader,
    ask,
    future_hour,
    offer_for,
    sign_up,
    signed_in_operator,
)
from tests.support import eventually

BOOTSTRAP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def _escalated(booking: Booking, name: str) -> str:
    """A neighbour's request that matching escalated to operators; its id."""
    _, neighbour = await sign_up(booking.client, name)
    series = await ask(booking.client, neighbour, future_hour(days=3))
    request_id: str = series["occurrences"][0]["request_id"]
    async with booking.runtime.uow.read() as repo:
        request = await repo.request(uuid.UUID(request_id))
    assert request is not None
    escalation = RequestUnmatched(
        request_id=request["request_id"],
        neighbour_id=request["neighbour_id"],
        neighbourhood=request["neighbourhood"],
        skill=request["skill"],
        starts_at=request["starts_at"],
        rounds=3,
        tried_helper_ids=[],
        reason="no helper accepted within 3 rounds",
    )
    await events.apply(booking.runtime.uow, Envelope.wrap(escalation, producer="matching"))
    return request_id


async def _answered(booking: Booking, request_id: str, headers: dict[str, str]) -> Any:
    async def probe() -> Any:
        found = await booking.client.get(
            f"/v1/operator/requests/{request_id}/candidates", headers=headers
        )
        assert found.status_code == 200, found.text
        body = found.json()
        return body if body["query"] and body["query"]["answered"] else None

    return await eventually(probe, timeout_s=20, what="matching's answer kept")


def _for(request_id: str, kind: type[Payload]) -> Any:
    def match(envelope: Envelope[Payload]) -> bool:
        data = envelope.data
        return isinstance(data, kind) and str(getattr(data, "request_id", "")) == request_id

    return match


async def test_an_operator_lists_candidates_with_names_and_assigns_an_escalated_request(
    booking: Booking,
) -> None:
    client = booking.client
    headers, account = await signed_in_operator(client, BOOTSTRAP, "Rhian Pugh")
    helper_id, helper = await sign_up(client, "Hal")
    busy_id, _ = await sign_up(client, "Bea")
    request_id = await _escalated(booking, "Nell")
    path = f"/v1/operator/requests/{request_id}"

    # Who could take it: asked once, whatever the retries.
    keyed = {**headers, "Idempotency-Key": f"ask-{request_id}"}
    asked = await client.post(
        f"{path}/candidates", headers=keyed, json={"reason": "Nell rang: still no helper"}
    )
    assert asked.status_code == 202, asked.text
    again = await client.post(
        f"{path}/candidates", headers=keyed, json={"reason": "Nell rang: still no helper"}
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["query_id"] == asked.json()["query_id"]
    query_id = asked.json()["query_id"]
    async with TopicReader(booking.settings.require_bootstrap(), REQUESTS.name) as reader:
        [question] = await reader.wait_for(_for(request_id, CandidatesAsked), what="the question")
    assert isinstance(question.data, CandidatesAsked)
    assert str(question.data.query_id) == query_id
    waiting = await client.get(f"{path}/candidates", headers=headers)
    assert waiting.json()["query"]["answered"] is False
    assert waiting.json()["candidates"] == []

    # Matching's answer arrives on the offers stream: kept, and shown with names.
    listed = CandidatesListed(
        query_id=uuid.UUID(query_id),
        request_id=uuid.UUID(request_id),
        neighbourhood=question.data.neighbourhood,
        candidates=[
            Candidate(
                helper_id=uuid.UUID(helper_id),
                reasons=[Reason(code=ReasonCode.NEARBY, text="0.4 km away")],
                offered_before=True,
            )
        ],
        passed_over=[PassedOver(helper_id=uuid.UUID(busy_id), why="would pass their weekly cap")],
    )
    await booking.publisher.publish(Envelope.wrap(listed, producer="matching"))
    answer = await _answered(booking, request_id, headers)
    assert [
        (c["helper_id"], c["display_name"], c["reasons"][0]["text"], c["offered_before"])
        for c in answer["candidates"]
    ] == [(helper_id, "Hal", "0.4 km away", True)]
    assert [(p["display_name"], p["why"]) for p in answer["passed_over"]] == [
        ("Bea", "would pass their weekly cap")
    ]
    assert answer["query"]["asked_by"] == "operator:Rhian Pugh"

    # Offer it to Hal: matching is asked to, and its offer is Hal's to accept.
    assigned = await client.post(
        f"{path}/assign",
        headers=headers,
        json={"helper_id": helper_id, "reason": "Hal knows Nell's street"},
    )
    assert assigned.status_code == 202, assigned.text
    assert assigned.json()["display_name"] == "Hal"
    async with TopicReader(booking.settings.require_bootstrap(), REQUESTS.name) as reader:
        [direction] = await reader.wait_for(_for(request_id, OfferDirected), what="direction")
    assert isinstance(direction.data, OfferDirected)
    assert str(direction.data.helper_id) == helper_id
    assert str(direction.data.direction_id) == assigned.json()["direction_id"]
    offer = await offer_for(booking.runtime.uow, request_id, helper_id)
    offer = offer.model_copy(
        update={
            "round": 4,
            "reasons": [Reason(code=ReasonCode.OPERATOR_CHOSEN, text="A coordinator chose you")],
        }
    )
    await booking.publisher.publish(Envelope.wrap(offer, producer="matching"))

    async def in_inbox() -> bool:
        inbox = await client.get("/v1/offers", headers=helper)
        return any(o["offer_id"] == str(offer.offer_id) for o in inbox.json()["items"])

    await eventually(in_inbox, timeout_s=20, what="the offer in Hal's inbox")
    accepted = await client.post(f"/v1/offers/{offer.offer_id}/accept", headers=helper)
    assert accepted.status_code == 201, accepted.text
    shown = await client.get(f"{path}/candidates", headers=headers)
    assert shown.json()["status"] == "booked"
    [directed] = shown.json()["directions"]
    assert (directed["display_name"], directed["offer_status"]) == ("Hal", "accepted")
    assert directed["refused_reason"] is None

    trail = await client.get(
        "/v1/operator/audit",
        headers=BOOTSTRAP,
        params={"operator_id": account["operator_id"], "action": "request"},
    )
    assert [
        (e["action"], e["subject_id"], e["reason"], e["details"].get("helper_id"))
        for e in trail.json()["items"]
    ] == [
        ("request.candidates", request_id, "Nell rang: still no helper", None),
        ("request.assign", request_id, "Hal knows Nell's street", helper_id),
    ]
    assert all(e["operator"] == "Rhian Pugh" for e in trail.json()["items"])


async def test_matchings_refusal_of_the_chosen_helper_is_shown_with_the_direction(
    booking: Booking,
) -> None:
    client = booking.client
    headers, _ = await signed_in_operator(client, BOOTSTRAP, "Osian Rees")
    helper_id, _ = await sign_up(client, "Sid")
    request_id = await _escalated(booking, "Gwen")
    path = f"/v1/operator/requests/{request_id}"
    assigned = await client.post(
        f"{path}/assign", headers=headers, json={"helper_id": helper_id, "reason": "Asked for"}
    )
    assert assigned.status_code == 202, assigned.text
    async with booking.runtime.uow.read() as repo:
        request = await repo.request(uuid.UUID(request_id))
    assert request is not None
    refused = OfferDirectionRefused(
        direction_id=uuid.UUID(assigned.json()["direction_id"]),
        request_id=uuid.UUID(request_id),
        helper_id=uuid.UUID(helper_id),
        neighbourhood=request["neighbourhood"],
        reason="is suspended",
        refused_at=utc_now(),
    )
    await booking.publisher.publish(Envelope.wrap(refused, producer="matching"))

    async def shown() -> Any:
        found = await client.get(f"{path}/candidates", headers=headers)
        directions = found.json()["directions"]
        return directions if directions and directions[0]["refused_reason"] else None

    [direction] = await eventually(shown, timeout_s=20, what="the refusal kept")
    assert (direction["display_name"], direction["refused_reason"]) == ("Sid", "is suspended")
    # The request still waits for operators.
    assert (await client.get(f"{path}/candidates", headers=headers)).json()["status"] == (
        "unmatched"
    )


async def test_an_escalated_request_is_run_through_matching_again_from_a_fresh_round(
    booking: Booking,
) -> None:
    client = booking.client
    headers, _ = await signed_in_operator(client, BOOTSTRAP, "Cai Hughes")
    request_id = await _escalated(booking, "Dilys")
    path = f"/v1/operator/requests/{request_id}"

    again = await client.post(
        f"{path}/reoffer", headers=headers, json={"reason": "New helpers signed up this week"}
    )

    assert again.status_code == 202, again.text
    assert again.json()["status"] == "open"
    async with TopicReader(booking.settings.require_bootstrap(), REQUESTS.name) as reader:
        asks = await reader.wait_for(_for(request_id, HelpRequested), count=2, what="asked again")
    assert len({e.event_id for e in asks}) == 2  # a new ask, not the first delivered again
    # Now open (matching is offering it): asked for again it would be a 409.
    refused = await client.post(f"{path}/reoffer", headers=headers, json={"reason": "Again"})
    assert refused.status_code == 409
    assert "only a waiting request (unmatched)" in refused.json()["detail"]
    trail = await client.get(
        "/v1/operator/audit", headers=BOOTSTRAP, params={"subject_id": request_id}
    )
    assert [(e["action"], e["reason"], e["operator"]) for e in trail.json()["items"]] == [
        ("request.reoffer", "New helpers signed up this week", "Cai Hughes")
    ]


async def test_only_a_waiting_request_is_assigned_and_only_to_someone_known(
    booking: Booking,
) -> None:
    client = booking.client
    headers, _ = await signed_in_operator(client, BOOTSTRAP, "Mair Lloyd")
    _, neighbour = await sign_up(client, "Ffion")
    series = await ask(client, neighbour, future_hour(days=4))
    request_id = series["occurrences"][0]["request_id"]
    path = f"/v1/operator/requests/{request_id}"
    cancelled = await client.post(f"/v1/requests/{request_id}/cancel", headers=neighbour)
    assert cancelled.status_code == 200, cancelled.text

    for action, body in (
        ("candidates", {}),
        ("assign", {"helper_id": str(uuid.uuid4()), "reason": "x"}),
        ("reoffer", {"reason": "x"}),
    ):
        refused = await client.post(f"{path}/{action}", headers=headers, json=body)
        assert refused.status_code == 409, (action, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert "this request is cancelled" in refused.json()["detail"]
    missing = await client.post(
        f"/v1/operator/requests/{uuid.uuid4()}/candidates", headers=headers, json={}
    )
    assert missing.status_code == 404
    waiting = await _escalated(booking, "Elin")
    unknown = await client.post(
        f"/v1/operator/requests/{waiting}/assign",
        headers=headers,
        json={"helper_id": str(uuid.uuid4()), "reason": "x"},
    )
    assert unknown.status_code == 422
    assert "helper_id" in unknown.text
    no_reason = await client.post(
        f"/v1/operator/requests/{waiting}/assign",
        headers=headers,
        json={"helper_id": str(uuid.uuid4())},
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    trail = await client.get(
        "/v1/operator/audit", headers=BOOTSTRAP, params={"subject_id": request_id}
    )
    assert trail.json()["items"] == []  # refused actions leave the trail untouched
