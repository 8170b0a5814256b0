"""An operator's hand in matching, over in-memory state: who could take a request, and an
offer directed to the helper they chose (or refused, with matching's reason)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.matching.domain import Status
from services.matching.handlers import Matcher
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import BookingConfirmed, OfferDeclined
from shared.contracts.candidates import (
    CandidatesAsked,
    CandidatesListed,
    OfferDirected,
    OfferDirectionRefused,
)
from shared.contracts.requests import HelpRequested, OfferMade, ReasonCode, RequestUnmatched
from shared.contracts.trust import RelationshipChanged, RelationshipStage, StandingChanged
from tests.unit.matching.factories import NEIGHBOURHOOD, request
from tests.unit.matching.support import NOW, add_helper, book, new_matcher, offers_in, send


def _asked(asked: HelpRequested) -> CandidatesAsked:
    return CandidatesAsked(query_id=uuid.uuid4(), **asked.model_dump())


def _directed(asked: HelpRequested, helper_id: uuid.UUID) -> OfferDirected:
    return OfferDirected(direction_id=uuid.uuid4(), helper_id=helper_id, **asked.model_dump())


def _declined(offer: OfferMade) -> OfferDeclined:
    return OfferDeclined(
        offer_id=offer.offer_id,
        request_id=offer.request_id,
        helper_id=offer.helper_id,
        neighbourhood=NEIGHBOURHOOD,
        expired=False,
    )


def _escalated(matcher: Matcher, helper_id: uuid.UUID) -> HelpRequested:
    """A request offered to ``helper_id`` alone, who declined: it waits for operators."""
    asked = request()
    [offer] = offers_in(send(matcher, asked))
    assert offer.helper_id == helper_id
    [unmatched] = send(matcher, _declined(offer))
    assert isinstance(unmatched, RequestUnmatched)
    return asked


def test_candidates_are_the_eligible_helpers_best_first_and_the_others_say_why_not() -> None:
    matcher = new_matcher()
    nearest = add_helper(matcher, 100)
    farther = add_helper(matcher, 900)
    unvetted = add_helper(matcher, 200, vetted=False)
    asked = request()
    opening = offers_in(send(matcher, asked))
    before = matcher.state.progress_of(NEIGHBOURHOOD, asked.request_id)

    [listed] = send(matcher, question := _asked(asked))

    assert isinstance(listed, CandidatesListed)
    assert listed.query_id == question.query_id
    assert [c.helper_id for c in listed.candidates] == [nearest, farther]
    offered = {o.helper_id for o in opening}
    assert [c.offered_before for c in listed.candidates] == [
        nearest in offered,
        farther in offered,
    ]
    assert ReasonCode.NEARBY in {r.code for r in listed.candidates[0].reasons}
    assert [(p.helper_id, p.why) for p in listed.passed_over] == [
        (unvetted, "has no standing from trust yet")
    ]
    # The neighbour, a helper too, is never listed for their own request.
    neighbour_helper = add_helper(matcher, 50)
    [again] = send(
        matcher,
        CandidatesAsked(
            query_id=uuid.uuid4(), **{**asked.model_dump(), "neighbour_id": neighbour_helper}
        ),
    )
    assert isinstance(again, CandidatesListed)
    assert neighbour_helper not in {p.helper_id for p in again.passed_over}
    assert neighbour_helper not in {c.helper_id for c in again.candidates}
    # Asking changes nothing of the request's way through its rounds.
    assert matcher.state.progress_of(NEIGHBOURHOOD, asked.request_id) == before


def test_a_directed_offer_goes_to_the_chosen_helper_alone_saying_an_operator_chose_them() -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    asked = _escalated(matcher, helper_id)
    direction = Envelope[Payload].wrap(_directed(asked, helper_id), producer="test")

    [offer] = [e.data for e in matcher.handle(direction, 0, NOW)]

    assert isinstance(offer, OfferMade)
    assert (offer.helper_id, offer.round) == (helper_id, 2)
    assert offer.reasons[0].code is ReasonCode.OPERATOR_CHOSEN
    assert offer.expires_at == NOW + timedelta(seconds=matcher.policy.offer_ttl_s)
    progress = matcher.state.progress_of(NEIGHBOURHOOD, asked.request_id)
    assert progress is not None
    assert progress.status is Status.OPEN
    assert progress.directed
    assert matcher.state.unmatched_in(NEIGHBOURHOOD) == []
    # Delivered again: the same offer, not a second round.
    [again] = [e.data for e in matcher.handle(direction, 0, NOW)]
    assert again == offer

    # The helper lets it go: the request is the operators' again, as news of its own.
    [back] = send(matcher, _declined(offer))
    assert isinstance(back, RequestUnmatched)
    assert back.reason == "the helper an operator chose did not take it"


def test_a_directed_offer_nobody_answers_goes_back_to_operators_when_it_lapses() -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    asked = _escalated(matcher, helper_id)
    [offer] = offers_in(send(matcher, _directed(asked, helper_id)))

    later = offer.expires_at
    [due] = matcher.due_rounds(later, owns={0})
    [back] = [e.data for e in matcher.round_due(due, later)]

    assert isinstance(back, RequestUnmatched)


def test_a_directed_offer_of_an_open_request_replaces_its_round() -> None:
    matcher = new_matcher()
    first = add_helper(matcher, 100)
    chosen = add_helper(matcher, 2000)
    asked = request()
    [opening] = offers_in(send(matcher, asked))
    assert opening.helper_id == first

    [offer] = offers_in(send(matcher, _directed(asked, chosen)))
    booked = send(matcher, book(offer))

    assert offer.helper_id == chosen
    assert booked == []
    progress = matcher.state.progress_of(NEIGHBOURHOOD, asked.request_id)
    assert progress is not None
    assert progress.status is Status.BOOKED


def _refused(matcher: Matcher, asked: HelpRequested, helper_id: uuid.UUID) -> str:
    [refused] = send(matcher, _directed(asked, helper_id))
    assert isinstance(refused, OfferDirectionRefused)
    assert refused.helper_id == helper_id
    return refused.reason


def test_matching_refuses_a_helper_who_may_not_be_offered_the_request() -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    suspended = add_helper(matcher, 150)
    blocked = add_helper(matcher, 200)
    unvetted = add_helper(matcher, 250, vetted=False)
    busy = add_helper(matcher, 300)
    asked = request()
    # The busy helper is booked elsewhere for the same hours.
    send(
        matcher,
        BookingConfirmed(
            booking_id=uuid.uuid4(),
            request_id=uuid.uuid4(),
            helper_id=busy,
            neighbour_id=uuid.uuid4(),
            neighbourhood=NEIGHBOURHOOD,
            skill=asked.skill,
            starts_at=asked.starts_at,
            hours=asked.hours,
            offer_id=uuid.uuid4(),
        ),
    )
    matcher.handle_standing(StandingChanged(person_id=suspended, suspended=True), NOW)
    send(
        matcher,
        RelationshipChanged(
            pair_id=f"{blocked}:{asked.neighbour_id}",
            helper_id=blocked,
            neighbour_id=asked.neighbour_id,
            neighbourhood=NEIGHBOURHOOD,
            stage=RelationshipStage.ENDED,
            visits=1,
            hours_together=1,
            both_want_again=False,
            matchable=False,
        ),
    )
    send(matcher, asked)

    assert _refused(matcher, asked, suspended) == "is suspended"
    assert _refused(matcher, asked, blocked) == "the pair is not matchable"
    assert _refused(matcher, asked, unvetted) == "has no standing from trust yet"
    assert _refused(matcher, asked, busy) == "is already booked for a requested hour"
    assert _refused(matcher, asked, uuid.uuid4()) == (
        "is not a helper within reach of this neighbourhood"
    )
    # A refusal changes nothing: the helper matching chose still has the round.
    progress = matcher.state.progress_of(NEIGHBOURHOOD, asked.request_id)
    assert progress is not None
    assert [o.helper_id for o in progress.offers] == [helper_id]


def test_matching_refuses_to_direct_a_request_that_is_booked() -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    other = add_helper(matcher, 2000)
    asked = request()
    [offer] = offers_in(send(matcher, asked))
    send(matcher, book(offer))
    assert offer.helper_id == helper_id

    assert _refused(matcher, asked, other) == "the request is booked already"


def test_a_request_matching_never_held_is_directed_from_its_fields() -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    asked = request()  # never sent: matching's state of it was lost

    events: list[Payload] = send(matcher, _directed(asked, helper_id))

    [offer] = offers_in(events)
    assert (offer.helper_id, offer.round) == (helper_id, 1)
