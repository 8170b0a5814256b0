"""The projector: each partner's feed carries only the streams and fields its scopes allow,
a service's own offers (which it can then answer), and concerns for safeguarding contacts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kith_partner import read_feed_message
from shared.contracts import Envelope, encode, key_for
from shared.contracts.partners import PartnerOfferAnswered
from shared.contracts.people import PersonProfileChanged
from shared.contracts.requests import HelpRequested, OfferMade
from shared.contracts.topics import CONCERNS, PARTNERS
from shared.contracts.trust import ConcernRaised, RaisedBy
from tests.conftest import Stack
from tests.integration.partners.conftest import Gateway
from tests.integration.partners.support import (
    Reader,
    bearer,
    help_requested,
    random_place,
    register,
)
from tests.support import eventually


def _offer(request: HelpRequested, helper_id: uuid.UUID) -> OfferMade:
    return OfferMade(
        offer_id=uuid.uuid4(),
        request_id=request.request_id,
        helper_id=helper_id,
        neighbour_id=request.neighbour_id,
        neighbourhood=request.neighbourhood,
        skill=request.skill,
        starts_at=request.starts_at,
        hours=1,
        round=1,
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
    )


def _feed(reader: Reader, feed_topic: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in reader.records if r.topic == feed_topic and r.value]


async def test_each_partner_sees_its_scopes_and_a_service_answers_its_own_offer(
    gateway: Gateway, stack: Stack
) -> None:
    neighbourhood, cell = random_place()
    reader_partner = await register(gateway.client, scopes={"read_streams": ["kith.requests.v1"]})
    blind = await register(gateway.client)
    service = await register(
        gateway.client, service={"skills": ["lift"], "neighbourhoods": [neighbourhood]}
    )
    helper_id = uuid.UUID(service["service"]["helper_id"])
    feeds = [p["feed_topic"] for p in (reader_partner, blind, service)]
    request = help_requested(neighbourhood, cell)
    offer = Envelope.wrap(_offer(request, helper_id), producer="matching")
    async with Reader(stack.bootstrap, *feeds, PARTNERS.name) as reader:
        await gateway.publisher.publish(Envelope.wrap(request, producer="booking"))
        await gateway.publisher.publish(offer)
        record = await reader.wait_for(
            lambda r: r.topic == service["feed_topic"], what="the offer on the service's feed"
        )
        event = read_feed_message(record.value)
        assert event.payload_as(OfferMade) == offer.data, "its own offer, whole"
        assert event.event_id == offer.event_id

        # The partner reads every request on the stream, other tests' too: find this one.
        seen = await reader.wait_for(
            lambda r: (
                r.topic == reader_partner["feed_topic"]
                and json.loads(r.value)["data"].get("request_id") == str(request.request_id)
            ),
            what="the request on a feed",
        )
        data = json.loads(seen.value)["data"]
        assert data["request_id"] == str(request.request_id)
        assert "neighbour_id" not in data
        assert "cell" not in data
        # Both were projected before the offer reached the service: nothing for the others.
        assert _feed(reader, blind["feed_topic"]) == []
        assert all(m["type"] != "offer.made" for m in _feed(reader, reader_partner["feed_topic"]))

        answer = PartnerOfferAnswered(
            partner_id=uuid.UUID(service["partner_id"]),
            offer_id=offer.data.offer_id,
            request_id=request.request_id,
            accepted=True,
        )
        sent = await gateway.client.post(
            "/v1/events",
            content=encode(Envelope.wrap(answer, producer="lifts")),
            headers=bearer(service),
        )
        assert sent.status_code == 202, sent.text
        published = await reader.wait_for(
            lambda r: r.topic == PARTNERS.name and str(offer.data.offer_id).encode() in r.value,
            what="the accepted answer on kith.partners.v1",
        )
        assert json.loads(published.value)["data"]["accepted"] is True

    stranger = answer.model_copy(update={"offer_id": uuid.uuid4()})
    refused = await gateway.client.post(
        "/v1/events",
        content=encode(Envelope.wrap(stranger, producer="lifts")),
        headers=bearer(service),
    )
    assert refused.status_code == 422
    assert "was not made to your service" in refused.json()["detail"]


async def test_a_safeguarding_contact_hears_of_a_concern_where_the_person_lives(
    gateway: Gateway, stack: Stack
) -> None:
    home, cell = random_place()
    elsewhere, _ = random_place()
    contact = await register(gateway.client, safeguarding_neighbourhoods=[home])
    far = await register(gateway.client, safeguarding_neighbourhoods=[elsewhere])
    person = uuid.uuid4()
    profile = PersonProfileChanged(
        person_id=person,
        display_name="Ada",
        neighbourhood=home,
        cell=cell,
        travel_radius_km=2,
        weekly_hour_cap=4,
    )
    concern = ConcernRaised(
        concern_id=uuid.uuid4(),
        about_id=person,
        raised_by_id=uuid.uuid4(),
        raised_by_role=RaisedBy.PERSON,
        booking_id=uuid.uuid4(),
    )
    summary = "Left the neighbour alone and upset"
    # A version 1 concern, written when the summary still travelled: the feed never has it.
    old = json.loads(encode(Envelope.wrap(concern, producer="trust")))
    old["version"], old["data"]["summary"] = 1, summary
    async with Reader(stack.bootstrap, contact["feed_topic"], far["feed_topic"]) as reader:
        await gateway.publisher.publish(Envelope.wrap(profile, producer="booking"))

        # The profile must be applied first: concerns are read from another topic.
        async def known() -> bool:
            async with gateway.runtime.unit_of_work() as uow:
                return await uow.place_of(person) == home

        await eventually(known, what="the person's neighbourhood")
        await gateway.publisher.send_encoded(
            [(CONCERNS.name, key_for(concern), json.dumps(old).encode(), concern.TYPE)]
        )
        record = await reader.wait_for(
            lambda r: r.topic == contact["feed_topic"], what="the concern on the contact's feed"
        )
    message = json.loads(record.value)
    assert message["type"] == "concern.raised"
    assert message["data"] == {
        "concern_id": str(concern.concern_id),
        "about_id": str(person),
        "raised_by_role": "person",
    }
    assert summary not in record.value.decode()
    assert _feed(reader, far["feed_topic"]) == []
