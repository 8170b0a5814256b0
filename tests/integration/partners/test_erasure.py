"""A deleted account reaches the partners gateway as ``PersonErased``: through the real broker
and the gateway's real database, its stored copies lose the person's name and texts, partners
that read the people stream are told whom to forget, and later events naming the person leave
without them."""

from __future__ import annotations

import json
import uuid

from shared.contracts import Envelope
from shared.contracts.people import PersonErased, PersonProfileChanged
from shared.contracts.trust import ConcernRaised, RaisedBy
from tests.conftest import Stack
from tests.integration.partners.conftest import Gateway
from tests.integration.partners.receiver import receiving
from tests.integration.partners.support import Reader, help_requested, random_place, register
from tests.support import eventually
from tests.traces import traces


def _concern(person: uuid.UUID, by: uuid.UUID | None = None) -> Envelope[ConcernRaised]:
    raised = ConcernRaised(
        concern_id=uuid.uuid4(),
        about_id=person,
        raised_by_id=by or uuid.uuid4(),
        raised_by_role=RaisedBy.PERSON,
    )
    return Envelope.wrap(raised, producer="booking")


async def test_an_erased_person_leaves_the_gateway_and_partners_are_told(
    gateway: Gateway, stack: Stack
) -> None:
    run = uuid.uuid4().hex[:8]
    marks = {"name": f"Wilhelmina {run}"}
    home, cell = random_place()
    person = uuid.uuid4()
    async with receiving() as receiver:
        people_reader = await register(
            gateway.client,
            scopes={
                "read_streams": ["kith.people.v1"],
                "fields": {"person.profile_changed": ["person_id", "display_name"]},
            },
            webhook_url=receiver.url,
        )
        contact = await register(
            gateway.client, safeguarding_neighbourhoods=[home], webhook_url=receiver.url
        )
        requests_only = await register(
            gateway.client, scopes={"read_streams": ["kith.requests.v1"]}
        )
        feeds = [p["feed_topic"] for p in (people_reader, contact, requests_only)]
        profile = PersonProfileChanged(
            person_id=person,
            display_name=marks["name"],
            neighbourhood=home,
            cell=cell,
            travel_radius_km=2,
            weekly_hour_cap=4,
        )
        async with Reader(stack.bootstrap, *feeds) as reader:
            neighbour = profile.model_copy(
                update={"person_id": uuid.uuid4(), "display_name": "Another"}
            )
            await gateway.publisher.publish_many(
                [Envelope.wrap(p, producer="booking") for p in (neighbour, profile)]
            )

            async def placed() -> bool:
                async with gateway.runtime.unit_of_work() as uow:
                    return await uow.place_of(person) == home

            await eventually(placed, what="the person's neighbourhood")
            concern = _concern(person)
            concern_id = str(concern.data.concern_id).encode()
            await gateway.publisher.publish(concern)

            async def both_delivered() -> bool:
                bodies = [r.body for r in receiver.requests if r.status == 200]
                return sum(marks["name"].encode() in b or concern_id in b for b in bodies) >= 2

            await eventually(both_delivered, what="the profile and the concern delivered")

            erased = Envelope.wrap(
                PersonErased(person_id=person, neighbourhood=home), producer="booking"
            )
            await gateway.publisher.publish(erased)
            # Other tests' erasures may be on the stream too: this person's is the one.
            told = await reader.wait_for(
                lambda r: (
                    r.topic == people_reader["feed_topic"]
                    and json.loads(r.value)["type"] == "person.erased"
                    and json.loads(r.value)["data"].get("person_id") == str(person)
                ),
                what="the people reader told",
            )
            assert set(json.loads(told.value)["data"]) == {"person_id", "neighbourhood"}

            # A concern they raised, read after their erasure, leaves without naming them.
            late_concern = _concern(neighbour.person_id, by=person)
            await gateway.publisher.publish(late_concern)
            late = await reader.wait_for(
                lambda r: (
                    r.topic == contact["feed_topic"]
                    and json.loads(r.value)["type"] == "concern.raised"
                    and json.loads(r.value)["data"]["concern_id"]
                    == str(late_concern.data.concern_id)
                ),
                what="the late concern on the contact's feed",
            )
            # A fence on the requests stream: the partner reading only requests gets it, and
            # was never told of the erasure before it.
            fence = help_requested(home, cell)
            await gateway.publisher.publish(Envelope.wrap(fence, producer="booking"))
            await reader.wait_for(
                lambda r: (
                    r.topic == requests_only["feed_topic"]
                    and json.loads(r.value)["data"].get("request_id") == str(fence.request_id)
                ),
                what="the fence",
            )
            assert all(
                json.loads(r.value)["type"] != "person.erased"
                for r in reader.records
                if r.topic == requests_only["feed_topic"]
            )
        assert str(person) not in late.value.decode()

    async with gateway.runtime.pool.acquire() as conn:
        left = await traces(conn, [*marks.values()])
        placed_rows = await conn.fetchval(
            "SELECT count(*) FROM people_places WHERE person_id = $1", person
        )
        delivered = await conn.fetchval(
            "SELECT count(*) FROM webhook_queue WHERE position(convert_to($1, 'UTF8') IN body) > 0",
            str(person),
        )
    assert left == [], "no stored webhook body keeps the name or the concern's text"
    assert placed_rows == 0
    assert delivered >= 2, "the delivery log keeps its lines, without the texts"

    # The same erasure again changes nothing more.
    await gateway.publisher.publish(
        Envelope.wrap(PersonErased(person_id=person, neighbourhood=home), producer="booking")
    )
    async with gateway.runtime.unit_of_work() as uow:
        assert await uow.erase_person(person, erased.occurred_at) == 0
