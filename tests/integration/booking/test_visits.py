"""Offers from matching, booking by accepting, visits, check-ins and trust's events."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.booking.service_layer import events
from shared.contracts import Envelope, Payload, encode
from shared.contracts.bookings import BookingConfirmed, VisitCheckedIn, VisitCompleted
from shared.contracts.codec import pair_key
from shared.contracts.requests import OfferMade, Reason, ReasonCode
from shared.contracts.topics import (
    BOOKINGS,
    CHECKINS,
    DEAD_LETTERS,
    OFFERS,
    RELATIONSHIPS,
    STANDING,
)
from shared.contracts.trust import (
    CheckInSubmitted,
    RelationshipChanged,
    RelationshipStage,
    StandingChanged,
)
from shared.messaging import RejectedEvent, read_dead_letter
from tests.conftest import Stack
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import TopicReader, future_hour, sign_up
from tests.support import eventually


async def _ask(
    client: httpx.AsyncClient, headers: dict[str, str], starts_at: datetime, hours: int = 2
) -> str:
    response = await client.post(
        "/v1/requests",
        headers=headers,
        json={"skill": "shopping", "starts_at": starts_at.isoformat(), "hours": hours},
    )
    assert response.status_code == 201, response.text
    request_id: str = response.json()["occurrences"][0]["request_id"]
    return request_id


def _offer(
    client_request: dict[str, Any], helper_id: str, neighbour_id: str, neighbourhood: str
) -> OfferMade:
    return OfferMade(
        offer_id=uuid.uuid4(),
        request_id=client_request["request_id"],
        helper_id=uuid.UUID(helper_id),
        neighbour_id=uuid.UUID(neighbour_id),
        neighbourhood=neighbourhood,
        skill=client_request["skill"],
        starts_at=client_request["starts_at"],
        hours=client_request["hours"],
        round=1,
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
        reasons=[Reason(code=ReasonCode.NEARBY, text="Lives nearby")],
    )


async def _offer_to(
    booking: Booking, neighbour: tuple[str, dict[str, str]], request_id: str, helper_id: str
) -> OfferMade:
    """Publish matching's offer of a request to a helper, as matching would."""
    request = (await booking.client.get(f"/v1/requests/{request_id}", headers=neighbour[1])).json()
    me = (await booking.client.get("/v1/me", headers=neighbour[1])).json()
    offer = _offer(request, helper_id, neighbour[0], me["neighbourhood"])
    await booking.publisher.publish(Envelope.wrap(offer, producer="matching"))
    return offer


async def _inbox_has(
    booking: Booking, headers: dict[str, str], offer_ids: set[str]
) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = (
            await booking.client.get("/v1/offers?limit=200", headers=headers)
        ).json()["items"]
        return items if offer_ids <= {item["offer_id"] for item in items} else None

    return await eventually(probe, what="offers in the helper's inbox")


async def test_offer_to_booking_to_visit_to_private_check_ins(
    booking: Booking, stack: Stack
) -> None:
    neighbour = await sign_up(booking.client, "Nora")
    helper_id, helper = await sign_up(booking.client, "Hugo")
    _, stranger = await sign_up(booking.client, "Sam")
    request_id = await _ask(booking.client, neighbour[1], future_hour(days=1))
    offer = await _offer_to(booking, neighbour, request_id, helper_id)

    (item,) = await _inbox_has(booking, helper, {str(offer.offer_id)})
    assert item["status"] == "open"
    assert item["neighbour"] == {"display_name": "Nora"}
    assert item["reasons"] == [{"code": "nearby", "text": "Lives nearby"}]
    assert "Acacia" not in str(item)

    assert (
        await booking.client.post(f"/v1/offers/{offer.offer_id}/accept", headers=stranger)
    ).status_code == 404
    accepted = await booking.client.post(f"/v1/offers/{offer.offer_id}/accept", headers=helper)
    assert accepted.status_code == 201, accepted.text
    booking_id = accepted.json()["booking_id"]
    again = await booking.client.post(f"/v1/offers/{offer.offer_id}/accept", headers=helper)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"

    request = (await booking.client.get(f"/v1/requests/{request_id}", headers=neighbour[1])).json()
    assert request["status"] == "booked"
    assert request["offers_made"] == 1

    # The helper sees the address of this upcoming visit; the stranger sees nothing at all.
    as_helper = (await booking.client.get(f"/v1/bookings/{booking_id}", headers=helper)).json()
    assert as_helper["neighbour"]["address"].endswith("Acacia Avenue")
    as_neighbour = (
        await booking.client.get(f"/v1/bookings/{booking_id}", headers=neighbour[1])
    ).json()
    assert "address" not in as_neighbour["neighbour"]
    hidden = await booking.client.get(f"/v1/bookings/{booking_id}", headers=stranger)
    assert hidden.status_code == 404
    upcoming = (await booking.client.get("/v1/bookings?when=upcoming", headers=helper)).json()
    assert [b["booking_id"] for b in upcoming["items"]] == [booking_id]

    early = await booking.client.post(
        f"/v1/bookings/{booking_id}/check-ins",
        headers=helper,
        json={"see_again": "yes", "as_agreed": "yes"},
    )
    assert early.status_code == 409
    not_helper = await booking.client.post(
        f"/v1/bookings/{booking_id}/check-in", headers=neighbour[1]
    )
    assert not_helper.status_code == 409
    for step in ("check-in", "check-out"):
        response = await booking.client.post(f"/v1/bookings/{booking_id}/{step}", headers=helper)
        assert response.status_code == 200, response.text
    for headers, answer in ((helper, "yes"), (neighbour[1], "not_sure")):
        response = await booking.client.post(
            f"/v1/bookings/{booking_id}/check-ins",
            headers=headers,
            json={"see_again": answer, "as_agreed": "yes", "note": "lovely"},
        )
        assert response.status_code == 201, response.text
    twice = await booking.client.post(
        f"/v1/bookings/{booking_id}/check-ins",
        headers=helper,
        json={"see_again": "no", "as_agreed": "no"},
    )
    assert twice.status_code == 409

    async with TopicReader(stack.bootstrap, BOOKINGS.name) as bookings:
        visit = await bookings.wait_for(
            lambda e: str(getattr(e.data, "booking_id", "")) == booking_id,
            count=3,
            what="confirmed, checked in, completed",
        )
    assert [type(e.data) for e in visit] == [BookingConfirmed, VisitCheckedIn, VisitCompleted]
    async with TopicReader(stack.bootstrap, CHECKINS.name) as checkins:
        answers = await checkins.wait_for(
            lambda e: isinstance(e.data, CheckInSubmitted) and str(e.data.booking_id) == booking_id,
            count=2,
            what="two check-ins",
        )
    by_author = {
        str(e.data.author_id): e.data for e in answers if isinstance(e.data, CheckInSubmitted)
    }
    assert by_author[helper_id].about_id == uuid.UUID(neighbour[0])
    assert by_author[neighbour[0]].about_id == uuid.UUID(helper_id)
    assert by_author[neighbour[0]].see_again == "not_sure"


async def test_concurrent_accepts_of_one_request_by_many_helpers_book_exactly_one(
    booking: Booking,
) -> None:
    neighbour = await sign_up(booking.client, "Pearl")
    request_id = await _ask(booking.client, neighbour[1], future_hour(days=4))
    helpers = [await sign_up(booking.client, f"H{i}") for i in range(16)]
    offers = [await _offer_to(booking, neighbour, request_id, hid) for hid, _ in helpers]
    for offer, (_, headers) in zip(offers, helpers, strict=True):
        await _inbox_has(booking, headers, {str(offer.offer_id)})

    responses = await asyncio.gather(
        *(
            booking.client.post(f"/v1/offers/{offer.offer_id}/accept", headers=headers)
            for offer, (_, headers) in zip(offers, helpers, strict=True)
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 15}
    withdrawn = [
        (await booking.client.get("/v1/offers", headers=headers)).json()["items"][0]["status"]
        for _, headers in helpers
    ]
    assert sorted(withdrawn) == ["accepted"] + ["withdrawn"] * 15


async def test_malformed_messages_are_dead_lettered_and_the_next_ones_applied(
    booking: Booking, stack: Stack
) -> None:
    neighbour = await sign_up(booking.client, "Queenie")
    helper_id, helper = await sign_up(booking.client, "Ray")
    ended_id, _ = await sign_up(booking.client, "Eve")
    me = (await booking.client.get("/v1/me", headers=neighbour[1])).json()
    request_id = await _ask(booking.client, neighbour[1], future_hour(days=5))
    request = (await booking.client.get(f"/v1/requests/{request_id}", headers=neighbour[1])).json()
    marker = uuid.uuid4().hex

    def relationship(helper: str, matchable: bool) -> RelationshipChanged:
        return RelationshipChanged(
            pair_id=pair_key(helper, neighbour[0]),
            helper_id=uuid.UUID(helper),
            neighbour_id=uuid.UUID(neighbour[0]),
            neighbourhood=me["neighbourhood"],
            stage=RelationshipStage.FIRST_VISIT if matchable else RelationshipStage.ENDED,
            visits=1,
            hours_together=2,
            both_want_again=matchable,
            matchable=matchable,
        )

    valid = {
        OFFERS.name: _offer(request, helper_id, neighbour[0], me["neighbourhood"]),
        RELATIONSHIPS.name: relationship(helper_id, True),
        STANDING.name: StandingChanged(person_id=uuid.UUID(helper_id), suspended=True),
    }
    raw = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await raw.start()
    try:
        for topic, payload in valid.items():
            key = f"{marker}:{topic}".encode()
            await raw.send_and_wait(topic, b"{not json", key=key)
            await raw.send_and_wait(topic, encode(Envelope.wrap(payload, producer="test")), key=key)
        ended = encode(Envelope.wrap(relationship(ended_id, False), producer="test"))
        await raw.send_and_wait(RELATIONSHIPS.name, ended, key=marker.encode())
    finally:
        await raw.stop()

    async with TopicReader(stack.bootstrap, DEAD_LETTERS.name) as letters:
        for topic in valid:
            key = f"{marker}:{topic}".encode()

            def from_topic(record: Any, key: bytes = key) -> bool:
                return bool(record.key == key)

            record = await letters.wait_for_raw(from_topic, what=f"the dead letter from {topic}")
            letter = read_dead_letter(record)
            assert letter.topic == topic
            assert letter.reason.startswith("not JSON")
            assert letter.consumer == "booking"

    offer = valid[OFFERS.name]
    assert isinstance(offer, OfferMade)
    await _inbox_has(booking, helper, {str(offer.offer_id)})

    async def met() -> list[dict[str, Any]] | None:
        response = await booking.client.get("/v1/me/relationships", headers=neighbour[1])
        items: list[dict[str, Any]] = response.json()["items"]
        return items or None

    relationships = await eventually(met, what="the relationship")
    # The pair that ended is left out, without saying why.
    assert [r["person_id"] for r in relationships] == [helper_id]
    assert "matchable" not in relationships[0]
    assert "both_want_again" not in relationships[0]

    async def suspended() -> bool:
        profile = (await booking.client.get("/v1/me", headers=helper)).json()
        return bool(profile["suspended"])

    await eventually(suspended, what="the helper's suspension")
    refused = await booking.client.post(f"/v1/offers/{offer.offer_id}/accept", headers=helper)
    assert refused.status_code == 409
    assert "paused" in refused.json()["detail"]


async def test_a_consumed_offer_is_applied_once_and_only_to_its_own_request(
    booking: Booking,
) -> None:
    neighbour = await sign_up(booking.client, "Olive")
    helper_id, helper = await sign_up(booking.client, "Percy")
    other_id, _ = await sign_up(booking.client, "Quinn")
    me = (await booking.client.get("/v1/me", headers=neighbour[1])).json()
    request_id = await _ask(booking.client, neighbour[1], future_hour(days=6))
    request = (await booking.client.get(f"/v1/requests/{request_id}", headers=neighbour[1])).json()
    uow = booking.runtime.uow

    made = _offer(request, helper_id, neighbour[0], me["neighbourhood"])
    offer: Envelope[Payload] = Envelope.wrap(made, producer="matching")
    await events.apply(uow, offer)
    await events.apply(uow, offer)  # redelivered
    again: Envelope[Payload] = Envelope.wrap(
        made, producer="matching"
    )  # re-sent under a new event id
    await events.apply(uow, again)
    inbox = await _inbox_has(booking, helper, {str(made.offer_id)})
    assert [item["offer_id"] for item in inbox].count(str(made.offer_id)) == 1
    assert inbox[0]["status"] == "open"

    unknown = {**request, "request_id": str(uuid.uuid4())}
    lost = _offer(unknown, helper_id, neighbour[0], me["neighbourhood"])
    with pytest.raises(RejectedEvent, match="unknown request"):
        await events.apply(uow, Envelope.wrap(lost, producer="matching"))
    stranger = _offer(request, helper_id, other_id, me["neighbourhood"])
    with pytest.raises(RejectedEvent, match="neighbour other than"):
        await events.apply(uow, Envelope.wrap(stranger, producer="matching"))
    after = await _inbox_has(booking, helper, set())
    assert str(stranger.offer_id) not in {item["offer_id"] for item in after}

    # Once the request is booked, a later offer is kept as withdrawn (the inbox stays honest).
    accepted = await booking.client.post(f"/v1/offers/{made.offer_id}/accept", headers=helper)
    assert accepted.status_code == 201, accepted.text
    late_helper, late = await sign_up(booking.client, "Rosa")
    late_offer = _offer(request, late_helper, neighbour[0], me["neighbourhood"])
    await events.apply(uow, Envelope.wrap(late_offer, producer="matching"))
    items = await _inbox_has(booking, late, {str(late_offer.offer_id)})
    assert [item["status"] for item in items] == ["withdrawn"]


async def test_a_run_of_offers_applied_in_one_statement_does_what_one_by_one_would(
    booking: Booking,
) -> None:
    neighbour = await sign_up(booking.client, "Sybil")
    helpers = [await sign_up(booking.client, name) for name in ("Tariq", "Uma")]
    other_id, _ = await sign_up(booking.client, "Vera")
    me = (await booking.client.get("/v1/me", headers=neighbour[1])).json()
    request_id = await _ask(booking.client, neighbour[1], future_hour(days=7))
    request = (await booking.client.get(f"/v1/requests/{request_id}", headers=neighbour[1])).json()
    uow = booking.runtime.uow

    made = [
        _offer(request, helper_id, neighbour[0], me["neighbourhood"]) for helper_id, _ in helpers
    ]
    first: Envelope[Payload] = Envelope.wrap(made[0], producer="matching")
    unknown = _offer(
        {**request, "request_id": str(uuid.uuid4())},
        helpers[0][0],
        neighbour[0],
        me["neighbourhood"],
    )
    stranger = _offer(request, helpers[1][0], other_id, me["neighbourhood"])
    run: list[Envelope[Payload]] = [
        first,
        first,  # the same event twice in one run
        Envelope.wrap(made[0], producer="matching"),  # re-sent under a new event id
        Envelope.wrap(unknown, producer="matching"),
        Envelope.wrap(made[1], producer="matching"),
        Envelope.wrap(stranger, producer="matching"),
    ]
    outcomes = await events.apply_offers(uow, run)
    assert outcomes[:3] == [None, None, None]
    assert outcomes[3] == f"offer for unknown request {unknown.request_id}"
    assert outcomes[4] is None
    assert outcomes[5] == "offer names a neighbour other than the request's"
    assert await events.apply_offers(uow, run) == outcomes, "a redelivered run changes nothing"

    for offer, (_, headers) in zip(made, helpers, strict=True):
        inbox = await _inbox_has(booking, headers, {str(offer.offer_id)})
        assert [item["offer_id"] for item in inbox] == [str(offer.offer_id)]
        assert inbox[0]["status"] == "open"
    assert str(stranger.offer_id) not in {
        item["offer_id"] for item in await _inbox_has(booking, helpers[1][1], set())
    }

    # Once the request is booked, a later run's offers are kept as withdrawn.
    accepted = await booking.client.post(
        f"/v1/offers/{made[0].offer_id}/accept", headers=helpers[0][1]
    )
    assert accepted.status_code == 201, accepted.text
    late_id, late = await sign_up(booking.client, "Wilf")
    late_offers = [_offer(request, late_id, neighbour[0], me["neighbourhood"]) for _ in range(2)]
    assert await events.apply_offers(
        uow, [Envelope.wrap(offer, producer="matching") for offer in late_offers]
    ) == [None, None]
    items = await _inbox_has(booking, late, {str(offer.offer_id) for offer in late_offers})
    assert [item["status"] for item in items] == ["withdrawn", "withdrawn"]
