"""Filing helpers in every neighbourhood within their radius, and keeping the copies in step."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter

from services.matching.domain import BookedVisit, HelperProfile, Policy
from services.matching.filing import BookedFact, HeldFact, HelperCopy, ReleasedFact, take_copy
from services.matching.handlers import Matcher
from services.matching.state import HelperState, MatchingState
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import BookingCancelled, BookingConfirmed, OfferDeclined, Side
from shared.contracts.people import AvailabilityChanged, PersonProfileChanged
from shared.contracts.requests import HelpRequested, OfferMade, ReasonCode, RequestUnmatched
from shared.contracts.skills import Skill
from shared.contracts.trust import RelationshipChanged, RelationshipStage, StandingChanged
from shared.geo import cell_of, distance_km, neighbourhood_of_cell, neighbourhoods_within

NOW = datetime(2031, 3, 1, tzinfo=UTC)
STARTS = datetime(2031, 3, 3, 10, tzinfo=UTC)
POLICY = Policy(regular_hold_s=60, offer_ttl_s=300, cascade_width=2, cascade_rounds=3)
LAT = 51.5
_COPY = TypeAdapter(HelperCopy)


def _edge() -> tuple[str, str]:
    """Two street cells about 400 m apart, on either side of a neighbourhood edge."""
    lng = -0.1
    east = lng
    while neighbourhood_of_cell(cell_of(LAT, east)) == neighbourhood_of_cell(cell_of(LAT, lng)):
        east += 0.0002
    here, there = cell_of(LAT, east - 0.003), cell_of(LAT, east + 0.003)
    assert neighbourhood_of_cell(here) != neighbourhood_of_cell(there)
    return here, there


HERE, THERE = _edge()


def _send(matcher: Matcher, payload: Payload) -> list[Payload]:
    return [e.data for e in matcher.handle(Envelope.wrap(payload, producer="test"), 0, NOW)]


def _profile(person_id: uuid.UUID, cell: str, radius_km: float = 2.0) -> PersonProfileChanged:
    return PersonProfileChanged(
        person_id=person_id,
        display_name="Helper",
        neighbourhood=neighbourhood_of_cell(cell),
        cell=cell,
        skills=[Skill.SHOPPING],
        travel_radius_km=radius_km,
        weekly_hour_cap=10,
    )


def _helper(matcher: Matcher, cell: str = HERE, radius_km: float = 2.0) -> uuid.UUID:
    person_id = uuid.uuid4()
    hours = [STARTS + timedelta(hours=h) for h in range(-2, 4)]
    _send(matcher, _profile(person_id, cell, radius_km))
    _send(
        matcher,
        AvailabilityChanged(
            person_id=person_id,
            neighbourhood=neighbourhood_of_cell(cell),
            horizon_start=hours[0],
            horizon_end=hours[-1],
            free_hours=hours,
        ),
    )
    matcher.handle_standing(
        StandingChanged(
            person_id=person_id,
            suspended=False,
            approved_skills={Skill.SHOPPING: STARTS + timedelta(days=365)},
        ),
        NOW,
    )
    return person_id


def _request(cell: str) -> HelpRequested:
    return HelpRequested(
        request_id=uuid.uuid4(),
        series_id=uuid.uuid4(),
        occurrence=1,
        occurrences=1,
        neighbour_id=uuid.uuid4(),
        neighbourhood=neighbourhood_of_cell(cell),
        cell=cell,
        skill=Skill.SHOPPING,
        starts_at=STARTS,
        hours=1,
    )


def _booking(offer: OfferMade) -> BookingConfirmed:
    return BookingConfirmed(
        booking_id=uuid.uuid4(),
        request_id=offer.request_id,
        helper_id=offer.helper_id,
        neighbour_id=offer.neighbour_id,
        neighbourhood=offer.neighbourhood,
        skill=offer.skill,
        starts_at=offer.starts_at,
        hours=offer.hours,
        offer_id=offer.offer_id,
    )


def test_a_neighbour_across_a_cell_edge_is_offered_the_helper_with_the_distance() -> None:
    matcher = Matcher(MatchingState.in_memory(), POLICY)
    helper_id = _helper(matcher, HERE)
    [offer] = _send(matcher, _request(THERE))
    assert isinstance(offer, OfferMade)
    assert offer.helper_id == helper_id
    nearby = next(r for r in offer.reasons if r.code is ReasonCode.NEARBY)
    assert nearby.text == f"{distance_km(HERE, THERE):.1f} km away"


def test_a_helper_is_filed_only_where_their_radius_reaches() -> None:
    state = MatchingState.in_memory()
    matcher = Matcher(state, POLICY)
    helper_id = _helper(matcher, HERE, radius_km=2.0)
    filed = {n for n, people in _rosters(state).items() if helper_id in people}
    assert filed == set(neighbourhoods_within(HERE, 2.0))
    assert neighbourhood_of_cell(THERE) in filed
    # Nothing farther than the radius can be offered them: its requests never see the helper.
    far = cell_of(LAT, -0.1 + 5 / 69)
    assert neighbourhood_of_cell(far) not in filed
    [unmatched] = _send(matcher, _request(far))
    assert isinstance(unmatched, RequestUnmatched)


def test_a_booking_from_one_neighbourhood_makes_the_hour_busy_in_every_copy() -> None:
    matcher = Matcher(MatchingState.in_memory(), POLICY)
    helper_id = _helper(matcher, HERE)
    [offer] = _send(matcher, _request(THERE))
    assert isinstance(offer, OfferMade)
    booking = _booking(offer)
    _send(matcher, booking)
    # The helper's next-door neighbour asks for the same hour, in the helper's own cell.
    [busy] = _send(matcher, _request(HERE))
    assert isinstance(busy, RequestUnmatched)
    for neighbourhood in neighbourhoods_within(HERE, 2.0):
        assert booking.booking_id in matcher.state.helper(neighbourhood, helper_id).bookings
    # Cancelled: the hour is free again everywhere.
    cancelled = BookingCancelled(
        **booking.model_dump(exclude={"offer_id", "referred_by"}),
        cancelled_by=Side.HELPER,
        late=False,
    )
    _send(matcher, cancelled)
    [again] = _send(matcher, _request(HERE))
    assert isinstance(again, OfferMade)
    assert again.helper_id == helper_id


def test_moving_away_unfiles_the_helper_where_they_no_longer_reach() -> None:
    state = MatchingState.in_memory()
    matcher = Matcher(state, POLICY)
    helper_id = _helper(matcher, HERE, radius_km=2.0)
    _send(matcher, _profile(helper_id, HERE, radius_km=0.1))
    assert neighbourhood_of_cell(THERE) not in neighbourhoods_within(HERE, 0.1)
    filed = {n for n, people in _rosters(state).items() if helper_id in people}
    assert filed == set(neighbourhoods_within(HERE, 0.1))
    [unmatched] = _send(matcher, _request(THERE))
    assert isinstance(unmatched, RequestUnmatched)
    # Hours still stand where the helper is still filed: the profile fact changed only that.
    assert matcher.state.helper(neighbourhood_of_cell(HERE), helper_id).free_hours


def test_facts_and_copies_wait_for_the_caller_outside_loopback() -> None:
    state = MatchingState.in_memory()
    matcher = Matcher(state, POLICY, loopback=False)
    helper_id = uuid.uuid4()
    _send(matcher, _profile(helper_id, HERE))
    [fact] = matcher.take_forwards()
    assert (fact.channel, fact.key) == ("facts", str(helper_id).encode())
    assert state.helper(neighbourhood_of_cell(HERE), helper_id).profile is None
    matcher.handle_fact(fact.value)
    copies = matcher.take_forwards()
    assert {c.channel for c in copies} == {"copies"}
    assert {c.key.decode() for c in copies} == set(neighbourhoods_within(HERE, 2.0))
    for copy in copies:
        matcher.handle_copy(copy.value, NOW)
    assert state.helper(neighbourhood_of_cell(THERE), helper_id).profile is not None


def test_a_copy_delivered_again_changes_nothing() -> None:
    state = MatchingState.in_memory()
    neighbourhood = neighbourhood_of_cell(THERE)
    helper_id = uuid.uuid4()
    profile = HelperProfile(helper_id, "Helper", HERE, frozenset({Skill.SHOPPING}), 2.0, 10)
    whole = HelperState(profile=profile, free_hours=frozenset({STARTS}), seq=5)
    booking_id = uuid.uuid4()
    booked = BookedFact(helper_id, booking_id, BookedVisit(STARTS, 1))

    def file(seq: int, **change: object) -> None:
        copy = HelperCopy(neighbourhood, helper_id, seq, **change)  # type: ignore[arg-type]
        take_copy(state, _COPY.dump_json(copy))

    file(5, state=whole)
    file(4, state=replace(whole, free_hours=frozenset()))  # older: ignored
    file(5)  # an unfiling with a number already taken: a redelivery, ignored
    assert state.helper(neighbourhood, helper_id) == whole
    file(6, fact=booked)
    file(7, fact=ReleasedFact(helper_id, booking_id))
    file(6, fact=booked)  # delivered again after its release: must not book the hour again
    assert state.helper(neighbourhood, helper_id).bookings == {}
    assert state.helper(neighbourhood, helper_id).free_hours == whole.free_hours
    assert helper_id in state.roster_of(neighbourhood)
    file(8)
    assert helper_id not in state.roster_of(neighbourhood)


def _rosters(state: MatchingState) -> dict[str, list[uuid.UUID]]:
    return {str(n): state.roster_of(str(n)) for n in list(state.roster)}


def test_a_regulars_hour_is_held_from_strangers_while_their_neighbour_asks_first() -> None:
    matcher = Matcher(MatchingState.in_memory(), POLICY)
    regular_id = _helper(matcher, HERE)
    asked = _request(THERE)
    _send(
        matcher,
        RelationshipChanged(
            pair_id=f"{regular_id}:{asked.neighbour_id}",
            helper_id=regular_id,
            neighbour_id=asked.neighbour_id,
            neighbourhood=asked.neighbourhood,
            stage=RelationshipStage.REGULAR,
            visits=4,
            hours_together=4,
            both_want_again=True,
            matchable=True,
        ),
    )
    [first] = _send(matcher, asked)
    assert isinstance(first, OfferMade)
    assert first.helper_id == regular_id
    # A stranger's request for the same hour, from the regular's own cell: not offered.
    [held] = _send(matcher, _request(HERE))
    assert isinstance(held, RequestUnmatched)
    # The regular says no: the hour is theirs to give again.
    declined = OfferDeclined(
        offer_id=first.offer_id,
        request_id=first.request_id,
        helper_id=regular_id,
        neighbourhood=first.neighbourhood,
    )
    _send(matcher, declined)
    [again] = _send(matcher, _request(HERE))
    assert isinstance(again, OfferMade)
    assert again.helper_id == regular_id


def test_only_a_copy_that_may_free_a_helper_asks_escalated_requests_again() -> None:
    state = MatchingState.in_memory()
    neighbourhood = neighbourhood_of_cell(THERE)
    helper_id = uuid.uuid4()
    profile = HelperProfile(helper_id, "Helper", HERE, frozenset({Skill.SHOPPING}), 2.0, 10)
    booking_id = uuid.uuid4()

    def file(seq: int, **change: object) -> str | None:
        copy = HelperCopy(neighbourhood, helper_id, seq, **change)  # type: ignore[arg-type]
        return take_copy(state, _COPY.dump_json(copy))

    assert file(1, state=HelperState(profile=profile, seq=1)) == neighbourhood
    # A booking or a hold only takes hours away: nobody escalated can be helped by it.
    assert file(2, fact=BookedFact(helper_id, booking_id, BookedVisit(STARTS, 1))) is None
    assert file(3, fact=HeldFact(helper_id, uuid.uuid4(), BookedVisit(STARTS, 1))) is None
    assert state.helper(neighbourhood, helper_id).bookings  # filed all the same
    # Moved to other hours, it frees its old ones; its release frees them all.
    moved = BookedFact(helper_id, booking_id, BookedVisit(STARTS + timedelta(hours=2), 1))
    assert file(4, fact=moved) == neighbourhood
    assert file(5, fact=ReleasedFact(helper_id, booking_id)) == neighbourhood
