"""A helper's bookings are filed by ISO week: a booking writes one small record per copy."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pydantic import TypeAdapter

from services.matching.domain import BookedVisit, HelperProfile
from services.matching.filing import HelperCopy, ReleasedFact, take_copy
from services.matching.handlers import Matcher
from services.matching.state import HelperState, MatchingState, week_of
from shared.contracts.bookings import BookingConfirmed, BookingRescheduled, Side
from shared.contracts.requests import OfferMade, RequestUnmatched
from shared.contracts.skills import Skill
from shared.geo import neighbourhood_of_cell, neighbourhoods_within
from tests.unit.matching.test_filing import (
    HERE,
    POLICY,
    STARTS,
    THERE,
    _booking,
    _helper,
    _profile,
    _request,
    _send,
)

_COPY = TypeAdapter(HelperCopy)


def _booked(matcher: Matcher, helper_id: uuid.UUID, starts_at: object) -> BookingConfirmed:
    booking = BookingConfirmed(
        booking_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        helper_id=helper_id,
        neighbour_id=uuid.uuid4(),
        neighbourhood=neighbourhood_of_cell(THERE),
        skill=Skill.SHOPPING,
        starts_at=starts_at,
        hours=1,
        offer_id=uuid.uuid4(),
    )
    _send(matcher, booking)
    return booking


def test_a_booking_writes_one_weeks_record_and_no_neighbourhoods_copy() -> None:
    state = MatchingState.in_memory()
    matcher = Matcher(state, POLICY)
    helper_id = _helper(matcher, HERE)
    for week in range(3):
        _booked(matcher, helper_id, STARTS + timedelta(days=7 * week, hours=1))
    stored = dict(state.helpers)
    weeks = dict(state.helper_weeks)

    matcher.loopback = False
    booking = _booked(matcher, helper_id, STARTS + timedelta(hours=2))
    [fact] = matcher.take_forwards()
    matcher.handle_fact(fact.value)

    # Nothing goes to the copies, and no copy's stored state changes: they refer to the
    # helper's week records, of which the booking's alone is written.
    assert matcher.take_forwards() == []
    assert dict(state.helpers) == stored
    changed = {k for k, v in state.helper_weeks.items() if weeks.get(k) is not v}
    assert changed == {f"{helper_id}|{week_of(booking.starts_at)}"}
    for neighbourhood in neighbourhoods_within(HERE, 2.0):
        assert len(state.helper(neighbourhood, helper_id).bookings) == 4
    # The hour is busy for a request from any neighbourhood within reach; the one before
    # it is not.
    matcher.loopback = True
    for cell in (HERE, THERE):
        busy = _request(cell).model_copy(update={"starts_at": booking.starts_at})
        [unmatched] = _send(matcher, busy)
        assert isinstance(unmatched, RequestUnmatched)
    [offer] = _send(matcher, _request(HERE))
    assert isinstance(offer, OfferMade)


def test_a_visit_moved_to_another_week_frees_its_old_hour_in_every_copy() -> None:
    matcher = Matcher(MatchingState.in_memory(), POLICY)
    helper_id = _helper(matcher, HERE)
    [offer] = _send(matcher, _request(THERE))
    assert isinstance(offer, OfferMade)
    booking = _booking(offer)
    _send(matcher, booking)
    later = STARTS + timedelta(days=7)
    moved = BookingRescheduled(
        **booking.model_dump(exclude={"offer_id", "starts_at"}),
        starts_at=later,
        previous_starts_at=booking.starts_at,
        previous_hours=booking.hours,
        proposed_by=Side.NEIGHBOUR,
    )
    _send(matcher, moved)
    for neighbourhood in neighbourhoods_within(HERE, 2.0):
        visits = matcher.state.helper(neighbourhood, helper_id).bookings
        assert visits == {booking.booking_id: BookedVisit(later, 1)}
    # The old hour is free again: the next request for it is offered to the helper.
    [again] = _send(matcher, _request(HERE))
    assert isinstance(again, OfferMade)
    assert again.helper_id == helper_id


def test_a_neighbourhood_newly_in_reach_is_filed_the_bookings_of_every_week() -> None:
    state = MatchingState.in_memory()
    matcher = Matcher(state, POLICY)
    helper_id = _helper(matcher, HERE, radius_km=0.1)
    far = [n for n in neighbourhoods_within(HERE, 2.0) if n not in neighbourhoods_within(HERE, 0.1)]
    made = {
        _booked(matcher, helper_id, STARTS + timedelta(days=7 * week)).booking_id
        for week in range(3)
    }
    _send(matcher, _profile(helper_id, HERE, radius_km=2.0))
    for neighbourhood in far:
        assert set(state.helper(neighbourhood, helper_id).bookings) == made


def test_a_copy_stored_before_week_records_has_its_booking_released() -> None:
    state = MatchingState.in_memory()
    neighbourhood = neighbourhood_of_cell(THERE)
    helper_id, booking_id = uuid.uuid4(), uuid.uuid4()
    profile = HelperProfile(helper_id, "Helper", HERE, frozenset({Skill.SHOPPING}), 2.0, 10)
    # As an older matching stored it: every booking in the state itself.
    old = HelperState(profile=profile, bookings={booking_id: BookedVisit(STARTS, 1)}, seq=5)
    state.put_helper(neighbourhood, helper_id, old)
    released = ReleasedFact(helper_id, booking_id)
    take_copy(state, _COPY.dump_json(HelperCopy(neighbourhood, helper_id, 6, fact=released)))
    assert state.helper(neighbourhood, helper_id).bookings == {}
