"""Matching through the real broker: offers with reasons, regulars first, cascade, escalation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import h3
import pytest
from aiokafka import AIOKafkaProducer

from services.matching.app import runtime_of
from shared.contracts import Envelope
from shared.contracts.bookings import BookingCancelled, BookingConfirmed, OfferDeclined, Side
from shared.contracts.candidates import (
    CandidatesAsked,
    CandidatesListed,
    OfferDirected,
    OfferDirectionRefused,
)
from shared.contracts.partners import (
    Consent,
    ConsentMethod,
    PartnerOfferAnswered,
    PartnerServiceChanged,
    PersonReferred,
)
from shared.contracts.requests import OfferMade, ReasonCode, RequestUnmatched
from shared.contracts.skills import Skill
from shared.contracts.topics import (
    AVAILABILITY,
    BOOKINGS,
    PARTNERS,
    PEOPLE,
    RELATIONSHIPS,
    REQUESTS,
    STANDING,
    Topic,
)
from shared.contracts.trust import RelationshipChanged, RelationshipStage, StandingChanged
from shared.messaging.dead_letters import DeadLetter
from tests.conftest import Stack
from tests.integration.matching.harness import (
    Harness,
    Place,
    add_helper,
    request_help,
    running_harness,
)
from tests.support import eventually


@pytest.fixture(scope="module")
async def harness(stack: Stack) -> AsyncIterator[Harness]:
    async with running_harness(stack) as harness:
        yield harness


async def test_a_request_is_offered_with_reasons(harness: Harness) -> None:
    place = Place()
    helpers = {await add_helper(harness, place, 200), await add_helper(harness, place, 900)}
    request = await request_help(harness, place)

    [offer] = await harness.events_for(request.data.request_id, 1)

    assert isinstance(offer, OfferMade)
    assert offer.helper_id in helpers
    assert offer.round == 1
    assert offer.reasons
    assert any(r.text.endswith("km away") for r in offer.reasons)
    envelope = next(e for e in harness.offers if e.data == offer)
    assert envelope.correlation_id == request.correlation_id
    assert envelope.causation_id == request.event_id


async def test_a_helper_who_speaks_the_neighbours_language_is_offered_first_and_told_why(
    harness: Harness,
) -> None:
    place = Place()
    # One next door (the neighbour's own street cell), one a street further (the next cell,
    # about 0.3 km): sharing a language counts as half a kilometre nearer.
    await add_helper(harness, place, cell=place.cell)
    next_street = sorted(h3.grid_ring(place.cell, 1))[0]
    speaks = await add_helper(harness, place, cell=next_street, languages=["cy", "en"])
    request = await request_help(harness, place, languages=["cy"])

    [offer] = await harness.events_for(request.data.request_id, 1)  # a round of one

    assert isinstance(offer, OfferMade)
    assert offer.helper_id == speaks  # though another helper lives nearer
    spoken = [r.text for r in offer.reasons if r.code is ReasonCode.SHARED_LANGUAGE]
    assert spoken == ["Speaks Welsh"]


async def test_the_regular_helper_is_offered_alone_first(harness: Harness) -> None:
    place = Place()
    regular = await add_helper(harness, place, 900)
    other = await add_helper(harness, place, 100)
    neighbour_id = uuid.uuid4()
    await harness.publisher.publish(
        Envelope.wrap(
            RelationshipChanged(
                pair_id=":".join(sorted((str(regular), str(neighbour_id)))),
                helper_id=regular,
                neighbour_id=neighbour_id,
                neighbourhood=place.neighbourhood,
                stage=RelationshipStage.FIRST_VISIT,
                visits=1,
                hours_together=2,
                both_want_again=True,
                matchable=True,
            ),
            producer="test",
        )
    )
    state = runtime_of(harness.app).matcher.state

    async def related() -> bool:
        return regular in state.relationships_of(place.neighbourhood, neighbour_id)

    await eventually(related, what="the relationship")
    request = await request_help(harness, place, neighbour_id)

    first, second = await harness.events_for(request.data.request_id, 2)

    assert isinstance(first, OfferMade)
    assert isinstance(second, OfferMade)
    assert (first.helper_id, first.round) == (regular, 1)
    assert any("visited this neighbour 1 time" in r.text for r in first.reasons)
    assert (second.helper_id, second.round) == (other, 2)
    assert second.offer_id != first.offer_id


async def test_declining_every_offer_moves_on_then_escalates(harness: Harness) -> None:
    place = Place()
    helpers = {await add_helper(harness, place, 200), await add_helper(harness, place, 600)}
    request = await request_help(harness, place)
    request_id = request.data.request_id

    for count in (1, 2):
        offer = (await harness.events_for(request_id, count))[-1]
        assert isinstance(offer, OfferMade)
        assert offer.round == count
        await harness.publisher.publish(
            Envelope.wrap(
                OfferDeclined(
                    offer_id=offer.offer_id,
                    request_id=request_id,
                    helper_id=offer.helper_id,
                    neighbourhood=place.neighbourhood,
                ),
                producer="test",
            )
        )

    unmatched = (await harness.events_for(request_id, 3))[-1]
    assert isinstance(unmatched, RequestUnmatched)
    assert set(unmatched.tried_helper_ids) == helpers
    assert unmatched.rounds == 2


async def test_nobody_eligible_is_escalated_at_once(harness: Harness) -> None:
    place = Place()
    request = await request_help(harness, place)

    [unmatched] = await harness.events_for(request.data.request_id, 1)

    assert isinstance(unmatched, RequestUnmatched)
    assert unmatched.rounds == 0
    assert unmatched.tried_helper_ids == []


@pytest.mark.parametrize(
    "topic",
    [PEOPLE, AVAILABILITY, REQUESTS, BOOKINGS, RELATIONSHIPS, STANDING],
    ids=lambda topic: topic.name,
)
async def test_a_malformed_message_is_dead_lettered_and_the_next_one_matched(
    harness: Harness, topic: Topic
) -> None:
    place = Place()
    # Keyed like the topic's own messages, so it shares a partition with what follows it.
    marker = (
        place.neighbourhood.encode()
        if topic.partitions == REQUESTS.partitions
        else uuid.uuid4().bytes.hex().encode()
    )
    raw = AIOKafkaProducer(bootstrap_servers=harness.bootstrap, enable_idempotence=False)
    await raw.start()
    try:
        await raw.send_and_wait(topic.name, b"{not json", key=marker)
    finally:
        await raw.stop()
    await add_helper(harness, place)
    request = await request_help(harness, place)

    [offer] = await harness.events_for(request.data.request_id, 1)
    assert isinstance(offer, OfferMade)

    # Another case's random place may share this neighbourhood (its key): look on this topic.
    async def letter() -> DeadLetter | None:
        mine = (d for d in harness.dead_letters if d.key == marker and d.topic == topic.name)
        return next(mine, None)

    dead = await eventually(letter, what="the dead letter")
    assert dead.reason.startswith("not JSON")
    assert dead.value == b"{not json"
    assert dead.consumer == "matching"


async def test_a_partner_service_is_offered_the_requests_it_takes(harness: Harness) -> None:
    place = Place()
    stranger = await add_helper(harness, place, 100)
    partner_id, service_id = uuid.uuid4(), uuid.uuid4()
    key = str(partner_id).encode()
    referral = PersonReferred(
        referral_id=uuid.uuid4(),
        partner_id=partner_id,
        partner_reference="GP-1",
        first_name="Edith",
        neighbourhood=place.neighbourhood,
        cell=place.cell,
        skill=Skill.SHOPPING,
        starts_at=place.starts_at,
        hours=1,
        consent=Consent(
            given_at=datetime.now(UTC), method=ConsentMethod.VERBAL, recorded_by="Dr Shah"
        ),
    )
    answer = PartnerOfferAnswered(
        partner_id=partner_id, offer_id=uuid.uuid4(), request_id=uuid.uuid4(), accepted=False
    )
    service = PartnerServiceChanged(
        partner_id=partner_id,
        name="Ridewell",
        helper_id=service_id,
        skills=[Skill.SHOPPING],
        neighbourhoods=[place.neighbourhood],
        active=True,
    )
    # Events matching does not use, then the service, then a malformed message: all keyed by
    # the partner, so they are handled in this order.
    await harness.publisher.publish_many(
        [Envelope.wrap(p, producer="partners") for p in (referral, answer, service)]
    )
    raw = AIOKafkaProducer(bootstrap_servers=harness.bootstrap, enable_idempotence=False)
    await raw.start()
    try:
        await raw.send_and_wait(PARTNERS.name, b"{not json", key=key)
    finally:
        await raw.stop()
    state = runtime_of(harness.app).matcher.state

    async def known() -> bool:
        return any(s.helper_id == service_id for s in state.partner_services_all())

    await eventually(known, what="the partner's service")
    request = await request_help(harness, place)

    [offer] = await harness.events_for(request.data.request_id, 1)

    assert isinstance(offer, OfferMade)
    assert offer.helper_id == service_id != stranger
    assert [r.code for r in offer.reasons] == [ReasonCode.PARTNER_SERVICE]
    assert "Ridewell" in offer.reasons[0].text

    async def letter() -> DeadLetter | None:
        return next((d for d in harness.dead_letters if d.key == key), None)

    # Only the malformed message was dead-lettered: the unused events came before it.
    dead = await eventually(letter, what="the malformed partner message dead-lettered")
    assert dead.value == b"{not json"
    assert [d.value for d in harness.dead_letters if d.key == key] == [b"{not json"]


async def test_a_visit_asked_for_again_after_a_cancellation_goes_to_someone_else_at_once(
    harness: Harness,
) -> None:
    place = Place()
    # A visit a few hours from now: offered at short notice.
    place.starts_at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=4
    )
    first, second = await add_helper(harness, place, 200), await add_helper(harness, place, 250)
    request = await request_help(harness, place)
    request_id = request.data.request_id
    [offer] = await harness.events_for(request_id, 1)
    assert isinstance(offer, OfferMade)
    assert [r.code for r in offer.reasons].count(ReasonCode.SHORT_NOTICE) == 1
    visit = {
        "booking_id": uuid.uuid4(),
        "request_id": request_id,
        "helper_id": offer.helper_id,
        "neighbour_id": offer.neighbour_id,
        "neighbourhood": place.neighbourhood,
        "skill": Skill.SHOPPING,
        "starts_at": place.starts_at,
        "hours": 2,
    }
    await harness.publisher.publish_many(
        [
            Envelope.wrap(BookingConfirmed(**visit, offer_id=offer.offer_id), producer="test"),
            Envelope.wrap(
                BookingCancelled(**visit, cancelled_by=Side.HELPER, late=True),
                producer="test",
            ),
            # Booking asks for the occurrence again: a new event of the same request.
            Envelope.wrap(request.data, producer="test"),
        ]
    )

    async def next_round() -> OfferMade | None:
        # Not the first offer again: matching publishes the open round again when the new ask
        # reaches it before the booking does (consumers dedupe it by its id).
        later = [
            e
            for e in harness.for_request(request_id)
            if isinstance(e, OfferMade) and e.round > offer.round
        ]
        return later[0] if later else None

    reoffer = await eventually(next_round, what="the visit offered again")
    assert isinstance(reoffer, OfferMade)
    assert reoffer.helper_id == ({first, second} - {offer.helper_id}).pop()
    assert reoffer.round == 2
    assert any(r.code is ReasonCode.SHORT_NOTICE for r in reoffer.reasons)


async def test_an_operator_lists_the_candidates_of_an_escalated_request_and_directs_it(
    harness: Harness,
) -> None:
    place = Place()
    helper_id = await add_helper(harness, place, 200)
    suspended = await add_helper(harness, place, 400)
    await harness.publisher.publish(
        Envelope.wrap(StandingChanged(person_id=suspended, suspended=True), producer="test")
    )
    state = runtime_of(harness.app).matcher.state

    async def held() -> bool:
        standing = state.standing_of(suspended)
        return standing is not None and standing.suspended

    await eventually(held, what="the suspension")
    request = await request_help(harness, place)
    request_id = request.data.request_id
    [offer] = await harness.events_for(request_id, 1)
    assert isinstance(offer, OfferMade)
    await harness.publisher.publish(
        Envelope.wrap(
            OfferDeclined(
                offer_id=offer.offer_id,
                request_id=request_id,
                helper_id=helper_id,
                neighbourhood=place.neighbourhood,
            ),
            producer="test",
        )
    )
    [_, unmatched] = await harness.events_for(request_id, 2)
    assert isinstance(unmatched, RequestUnmatched)
    fields = request.data.model_dump()

    # Who could take it: the helper who declined, and why the suspended one may not.
    asked = CandidatesAsked(query_id=uuid.uuid4(), **fields)
    await harness.publisher.publish(Envelope.wrap(asked, producer="booking"))
    listed = (await harness.events_for(request_id, 3))[-1]
    assert isinstance(listed, CandidatesListed)
    assert listed.query_id == asked.query_id
    assert [(c.helper_id, c.offered_before) for c in listed.candidates] == [(helper_id, True)]
    assert [(p.helper_id, p.why) for p in listed.passed_over] == [(suspended, "is suspended")]

    # The suspended helper is refused; the chosen one is offered it, told an operator chose.
    refused_direction = OfferDirected(direction_id=uuid.uuid4(), helper_id=suspended, **fields)
    await harness.publisher.publish(Envelope.wrap(refused_direction, producer="booking"))
    refused = (await harness.events_for(request_id, 4))[-1]
    assert isinstance(refused, OfferDirectionRefused)
    assert (refused.direction_id, refused.reason) == (
        refused_direction.direction_id,
        "is suspended",
    )
    direction = OfferDirected(direction_id=uuid.uuid4(), helper_id=helper_id, **fields)
    await harness.publisher.publish(Envelope.wrap(direction, producer="booking"))
    directed = (await harness.events_for(request_id, 5))[-1]
    assert isinstance(directed, OfferMade)
    assert (directed.helper_id, directed.round) == (helper_id, 2)
    assert directed.reasons[0].code is ReasonCode.OPERATOR_CHOSEN
