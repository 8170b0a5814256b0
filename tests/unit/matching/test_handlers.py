"""Matching's handlers over in-memory state: series, offer expiry, and events it ignores."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from services.matching.domain import Policy, Status
from services.matching.handlers import DueRound, Matcher
from services.matching.state import SeriesState
from shared.contracts import EVENTS_BY_TOPIC, Envelope, Payload
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    BookingRescheduled,
    OfferDeclined,
    Side,
    VisitCompleted,
    VisitNoShow,
    WelfareCheckRequested,
)
from shared.contracts.people import (
    AvailabilityChanged,
    AvailabilityChangedV2,
    PersonErased,
    WeeklySpan,
)
from shared.contracts.requests import (
    HelpRequestCancelled,
    HelpRequested,
    OfferMade,
    ReasonCode,
    RequestUnmatched,
)
from shared.contracts.skills import Skill
from shared.contracts.topics import BOOKINGS
from shared.contracts.trust import StandingChanged
from tests.unit.matching.factories import HOME, NEIGHBOURHOOD, STARTS
from tests.unit.matching.support import (
    NOW,
    POLICY,
    WEEK,
    add_helper,
    book,
    new_matcher,
    offers_in,
    send,
)


def _add_weekly_helper(matcher: Matcher, rules: list[WeeklySpan]) -> uuid.UUID:
    """A vetted helper who offers weekly hours (version 2) for as long as they hold."""
    person_id = add_helper(matcher, 100, weeks=1)  # replaced below
    send(
        matcher,
        AvailabilityChangedV2(
            person_id=person_id,
            neighbourhood=NEIGHBOURHOOD,
            time_zone="Europe/London",
            rules=rules,
        ),
    )
    matcher.handle_standing(
        StandingChanged(
            person_id=person_id,
            suspended=False,
            approved_skills={Skill.SHOPPING: STARTS + timedelta(days=3650)},
        ),
        NOW,
    )
    return person_id


def test_weekly_hours_are_offered_for_a_request_forty_days_and_a_year_ahead() -> None:
    matcher = new_matcher()
    # STARTS is a Monday at 10:00 UTC (11:00 or 10:00 in London, by the season).
    helper_id = _add_weekly_helper(
        matcher, [WeeklySpan(weekday="monday", start_hour=8, end_hour=14)]
    )
    for days in (42, 364):
        (ask,) = _series(1)
        ask = ask.model_copy(update={"starts_at": STARTS + timedelta(days=days)})
        offers = offers_in(send(matcher, ask))
        assert [offer.helper_id for offer in offers] == [helper_id], days


def test_weekly_hours_replace_a_version_one_list_and_the_other_way_round() -> None:
    matcher = new_matcher()
    helper_id = _add_weekly_helper(
        matcher, [WeeklySpan(weekday="tuesday", start_hour=8, end_hour=14)]
    )
    (monday,) = _series(1)
    assert offers_in(send(matcher, monday)) == []  # Tuesdays only
    hours = [STARTS + timedelta(days=7, hours=h) for h in range(2)]
    send(
        matcher,
        AvailabilityChanged(
            person_id=helper_id,
            neighbourhood=NEIGHBOURHOOD,
            horizon_start=hours[0],
            horizon_end=hours[-1],
            free_hours=hours,
        ),
    )
    (later,) = _series(1)
    later = later.model_copy(update={"starts_at": hours[0]})
    assert [o.helper_id for o in offers_in(send(matcher, later))] == [helper_id]


def _series(occurrences: int) -> list[HelpRequested]:
    series_id, neighbour_id = uuid.uuid4(), uuid.uuid4()
    return [
        HelpRequested(
            request_id=uuid.uuid4(),
            series_id=series_id,
            occurrence=index + 1,
            occurrences=occurrences,
            neighbour_id=neighbour_id,
            neighbourhood=NEIGHBOURHOOD,
            cell=HOME,
            skill=Skill.SHOPPING,
            starts_at=STARTS + WEEK * index,
            hours=2,
        )
        for index in range(occurrences)
    ]


def test_later_occurrences_wait_for_the_first_then_go_to_its_helper_alone() -> None:
    matcher = new_matcher()
    add_helper(matcher, 100)
    far = add_helper(matcher, 250)
    first, second, third = _series(3)

    opening = offers_in(send(matcher, first))
    assert len(opening) == 2  # nobody related yet: a widened first round, both about as near
    assert send(matcher, second) == []
    assert send(matcher, third) == []

    # The farther helper accepts first: they become the series' helper.
    chosen = next(o for o in opening if o.helper_id == far)
    released = offers_in(send(matcher, book(chosen)))

    assert {(o.request_id, o.helper_id) for o in released} == {
        (second.request_id, far),
        (third.request_id, far),
    }
    assert all(o.round == 1 for o in released)
    assert all(o.reasons[0].code is ReasonCode.REGULAR_HELPER for o in released)


def test_an_occurrence_arriving_after_a_booking_goes_to_the_series_helper_first() -> None:
    matcher = new_matcher()
    near_id = add_helper(matcher, 100)
    far = add_helper(matcher, 250)
    first, second = _series(2)
    [offer] = [o for o in offers_in(send(matcher, first)) if o.helper_id == far]
    send(matcher, book(offer))

    [again] = offers_in(send(matcher, second))

    assert again.helper_id == far
    assert near_id != far


def test_when_the_series_helper_is_away_a_familiar_face_comes_before_a_stranger() -> None:
    matcher = new_matcher()
    regular = add_helper(matcher, 2500, weeks=1)  # free for the first occurrence only
    cover = add_helper(matcher, 2000)
    stranger = add_helper(matcher, 100)
    first, _, third = _series(3)
    # The regular took the first occurrence, the cover the second.
    matcher.state.put_series(NEIGHBOURHOOD, first.series_id, SeriesState(helpers=(regular, cover)))

    [offer, other] = offers_in(send(matcher, third))

    assert offer.helper_id == cover
    assert offer.reasons[0].code is ReasonCode.MET_BEFORE
    assert other.helper_id == stranger


def test_a_round_of_strangers_waits_to_offer_a_much_farther_helper() -> None:
    matcher = new_matcher()
    near_id = add_helper(matcher, 100)
    far = add_helper(matcher, 2500)
    [asked] = _series(1)

    [offer] = offers_in(send(matcher, asked))
    no = OfferDeclined(
        offer_id=offer.offer_id,
        request_id=asked.request_id,
        helper_id=offer.helper_id,
        neighbourhood=NEIGHBOURHOOD,
        expired=False,
    )
    [declined] = offers_in(send(matcher, no))

    assert offer.helper_id == near_id, "the first yes wins: the farther helper waits its turn"
    assert (declined.helper_id, declined.round) == (far, 2)


def test_a_round_whose_offers_expire_moves_to_the_next_round() -> None:
    matcher = new_matcher()
    for metres in (100, 200, 300):
        add_helper(matcher, metres)
    [asked] = _series(1)
    first = offers_in(send(matcher, asked))
    assert {o.round for o in first} == {1}

    later = NOW + timedelta(seconds=POLICY.offer_ttl_s)
    assert matcher.due_rounds(later - timedelta(seconds=1), owns={0}) == []
    [due] = matcher.due_rounds(later, owns={0})
    assert due == DueRound(NEIGHBOURHOOD, asked.request_id, 1)
    [second] = [e.data for e in matcher.round_due(due, later)]

    assert isinstance(second, OfferMade)
    assert second.round == 2
    assert second.helper_id not in {o.helper_id for o in first}
    # A repeated tick for the old round changes nothing.
    assert matcher.round_due(due, later) == []
    # Rounds keep expiring until the cascade gives up and escalates.
    final = NOW + 3 * timedelta(seconds=POLICY.offer_ttl_s)
    [escalated] = [
        e.data for e in matcher.round_due(DueRound(NEIGHBOURHOOD, asked.request_id, 2), final)
    ]
    assert isinstance(escalated, RequestUnmatched)


def test_a_lapsed_offer_counts_as_a_decline() -> None:
    matcher = new_matcher()
    add_helper(matcher, 100)
    add_helper(matcher, 200)
    [asked] = _series(1)
    opening = offers_in(send(matcher, asked))
    events: list[Payload] = []
    for offer in opening:
        events = send(
            matcher,
            OfferDeclined(
                offer_id=offer.offer_id,
                request_id=asked.request_id,
                helper_id=offer.helper_id,
                neighbourhood=NEIGHBOURHOOD,
                expired=True,
            ),
        )
    [unmatched] = events
    assert isinstance(unmatched, RequestUnmatched)


def test_a_rescheduled_visit_frees_the_old_hours_and_takes_the_new() -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    first, second = _series(2)
    [offer] = offers_in(send(matcher, first))
    booked = book(offer)
    send(matcher, booked)
    moved = BookingRescheduled(
        **{**booked.model_dump(exclude={"offer_id", "referred_by"}), "starts_at": second.starts_at},
        previous_starts_at=booked.starts_at,
        previous_hours=booked.hours,
        proposed_by=Side.NEIGHBOUR,
    )
    send(matcher, moved)

    [visit] = matcher.state.helper(NEIGHBOURHOOD, helper_id).bookings.values()
    assert visit.starts_at == second.starts_at


@pytest.mark.parametrize("kind", [VisitCompleted, VisitNoShow, WelfareCheckRequested])
def test_event_types_matching_does_not_use_are_ignored(kind: type[Payload]) -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    before = {name: dict(getattr(matcher.state, name)) for name in ("helpers", "progress")}
    visit = {
        "booking_id": uuid.uuid4(),
        "request_id": uuid.uuid4(),
        "helper_id": helper_id,
        "neighbour_id": uuid.uuid4(),
        "neighbourhood": NEIGHBOURHOOD,
        "skill": Skill.SHOPPING,
        "starts_at": STARTS,
        "hours": 1,
        "absent": Side.HELPER,
        "reported_by": Side.NEIGHBOUR,
    }
    fields = set(kind.model_fields)
    payload = kind.model_validate({k: v for k, v in visit.items() if k in fields})

    assert send(matcher, payload) == []
    assert before == {name: dict(getattr(matcher.state, name)) for name in ("helpers", "progress")}
    # The app accepts every type registered on the topic (it reads the registry).
    assert kind in EVENTS_BY_TOPIC[BOOKINGS]


def _cancelled_by_helper(booking: BookingConfirmed) -> BookingCancelled:
    return BookingCancelled(
        **booking.model_dump(exclude={"offer_id", "referred_by"}),
        cancelled_by=Side.HELPER,
        late=False,
    )


def test_a_request_asked_again_after_its_helper_cancelled_is_offered_to_someone_else() -> None:
    matcher = new_matcher()
    first_helper = add_helper(matcher, 100)
    second_helper = add_helper(matcher, 120)
    [request] = _series(1)
    asked = Envelope[Payload].wrap(request, producer="booking")
    opening = offers_in([e.data for e in matcher.handle(asked, 0, NOW)])
    chosen = next(o for o in opening if o.helper_id == first_helper)
    booking = book(chosen)
    send(matcher, booking)

    # Booking cancels for the helper and asks for the same occurrence again (a new event).
    send(matcher, _cancelled_by_helper(booking))
    again = offers_in(send(matcher, request, NOW + timedelta(hours=1)))

    assert [o.helper_id for o in again] == [second_helper]
    assert again[0].round > max(o.round for o in opening)
    assert again[0].offer_id not in {o.offer_id for o in opening}
    # Once booked again, the first ask delivered again is not a new ask: nothing happens.
    send(matcher, book(again[0]))
    assert matcher.handle(asked, 0, NOW + timedelta(hours=2)) == []


def test_a_request_asked_again_is_escalated_anew_when_nobody_else_can_take_it() -> None:
    matcher = new_matcher()
    only_helper = add_helper(matcher, 100)
    [request] = _series(1)
    [offer] = offers_in(send(matcher, request))
    assert offer.helper_id == only_helper
    booking = book(offer)
    send(matcher, booking)
    send(matcher, _cancelled_by_helper(booking))

    asked_again = Envelope[Payload].wrap(request, producer="booking")
    [unmatched] = matcher.handle(asked_again, 0, NOW)

    assert isinstance(unmatched.data, RequestUnmatched)
    assert unmatched.data.rounds == 0
    # A new escalation, not a repeat of an earlier one (consumers dedupe by event id).
    first_escalation_id = uuid.uuid5(
        uuid.UUID("6f1b2f0e-4d0a-5c39-9a57-6b6974680002"), f"unmatched:{request.request_id}"
    )
    assert unmatched.event_id != first_escalation_id


def test_an_erased_helper_is_forgotten_and_offered_nothing() -> None:
    matcher = new_matcher()
    erased = add_helper(matcher, 100)
    other = add_helper(matcher, 900)

    assert send(matcher, PersonErased(person_id=erased, neighbourhood=NEIGHBOURHOOD)) == []
    matcher.forget_standing(erased)

    assert erased not in matcher.state.roster_of(NEIGHBOURHOOD)
    assert matcher.state.helper(NEIGHBOURHOOD, erased).profile is None
    assert matcher.state.standing_of(erased) is None
    [request] = _series(1)
    assert [o.helper_id for o in offers_in(send(matcher, request))] == [other]
    # The same erasure again (another event id) changes nothing.
    assert send(matcher, PersonErased(person_id=erased, neighbourhood=NEIGHBOURHOOD)) == []


def _escalated(matcher: Matcher, starts_at: datetime = STARTS) -> HelpRequested:
    """A request nobody can take yet: escalated at once."""
    [request] = _series(1)
    request = request.model_copy(update={"starts_at": starts_at})
    [unmatched] = send(matcher, request)
    assert isinstance(unmatched, RequestUnmatched)
    return request


def test_an_escalated_request_is_offered_to_a_helper_whose_new_hours_cover_it() -> None:
    matcher = new_matcher()
    helper_id = _add_weekly_helper(
        matcher, [WeeklySpan(weekday="tuesday", start_hour=8, end_hour=14)]
    )
    request = _escalated(matcher)  # a Monday: the helper offers Tuesdays only

    unrelated = send(
        matcher,
        AvailabilityChangedV2(
            person_id=helper_id,
            neighbourhood=NEIGHBOURHOOD,
            time_zone="Europe/London",
            rules=[WeeklySpan(weekday="wednesday", start_hour=8, end_hour=14)],
        ),
    )
    assert unrelated == []  # a change that helps nobody publishes nothing, not a re-escalation
    retried = send(
        matcher,
        AvailabilityChangedV2(
            person_id=helper_id,
            neighbourhood=NEIGHBOURHOOD,
            time_zone="Europe/London",
            rules=[WeeklySpan(weekday="monday", start_hour=8, end_hour=14)],
        ),
        NOW + timedelta(minutes=1),
    )
    [offer] = offers_in(retried)
    assert (offer.request_id, offer.helper_id) == (request.request_id, helper_id)
    progress = matcher.state.progress_of(NEIGHBOURHOOD, request.request_id)
    assert progress is not None
    assert progress.status is Status.OPEN


def test_a_newly_vetted_helper_brings_the_escalated_requests_of_their_neighbourhood_back() -> None:
    matcher = new_matcher()
    request = _escalated(matcher)
    helper_id = add_helper(matcher, 100, vetted=False)  # profile and hours, not yet vetted
    assert matcher.retry_unmatched(NEIGHBOURHOOD, NOW) == []

    vetted = StandingChanged(
        person_id=helper_id,
        suspended=False,
        approved_skills={Skill.SHOPPING: STARTS + timedelta(days=365)},
    )
    # The news travels through the helper's ledger to every neighbourhood holding them.
    [offer] = offers_in([e.data for e in matcher.handle_standing(vetted, NOW)])
    assert (offer.request_id, offer.helper_id) == (request.request_id, helper_id)
    # Asked again once: the same retry again finds nobody new and does nothing.
    assert matcher.retry_unmatched(NEIGHBOURHOOD, NOW) == []


def test_a_cancellation_elsewhere_frees_its_helper_for_an_escalated_request() -> None:
    matcher = new_matcher()
    helper_id = add_helper(matcher, 100)
    [first] = _series(1)
    [offer] = offers_in(send(matcher, first))
    booking = book(offer)
    send(matcher, booking)
    waiting = _escalated(matcher)  # the same hours: the only helper is booked

    freed = send(matcher, _cancelled_by_helper(booking), NOW + timedelta(minutes=5))

    [again] = offers_in(freed)
    assert (again.request_id, again.helper_id) == (waiting.request_id, helper_id)


def test_a_request_whose_start_has_passed_is_left_with_operators() -> None:
    matcher = new_matcher()
    _escalated(matcher)
    add_helper(matcher, 100)
    assert matcher.retry_unmatched(NEIGHBOURHOOD, STARTS + timedelta(minutes=1)) == []
    assert matcher.state.unmatched_in(NEIGHBOURHOOD) == []


def test_an_escalation_after_a_retry_is_news_to_operators() -> None:
    matcher = new_matcher()
    request = _escalated(matcher)
    helper_id = add_helper(matcher, 100, vetted=False)
    vetted = StandingChanged(
        person_id=helper_id,
        suspended=False,
        approved_skills={Skill.SHOPPING: STARTS + timedelta(days=365)},
    )
    [offer] = offers_in([e.data for e in matcher.handle_standing(vetted, NOW)])
    declined_ = OfferDeclined(
        offer_id=offer.offer_id,
        request_id=offer.request_id,
        helper_id=offer.helper_id,
        neighbourhood=offer.neighbourhood,
    )
    [again] = matcher.handle(Envelope.wrap(declined_, producer="booking"), 0, NOW)
    assert isinstance(again.data, RequestUnmatched)
    assert again.data.request_id == request.request_id
    first_escalation_id = uuid.uuid5(
        uuid.UUID("6f1b2f0e-4d0a-5c39-9a57-6b6974680002"), f"unmatched:{request.request_id}"
    )
    assert again.event_id != first_escalation_id


def test_a_visit_starting_soon_is_offered_as_short_notice_and_says_nothing_personal() -> None:
    matcher = new_matcher()
    add_helper(matcher, 100)
    [soon] = _series(1)
    [offer] = offers_in(send(matcher, soon, STARTS - timedelta(hours=3)))
    notice = [r for r in offer.reasons if r.code is ReasonCode.SHORT_NOTICE]
    assert [r.text for r in notice] == ["Short notice: it starts in 3 hours"]

    [later] = _series(1)
    [offer] = offers_in(send(matcher, later, STARTS - timedelta(days=3)))
    assert all(r.code is not ReasonCode.SHORT_NOTICE for r in offer.reasons)


def test_a_visit_asked_again_shortly_before_it_starts_reaches_operators_in_time() -> None:
    matcher = new_matcher()
    policy = Policy(
        regular_hold_s=60,
        offer_ttl_s=3600,
        cascade_width=1,
        cascade_rounds=3,
        escalate_before_s=2 * 3600,
    )
    matcher.policy = policy
    first, second, third = (add_helper(matcher, metres) for metres in (100, 150, 200))
    [request] = _series(1)
    asked_at = STARTS - timedelta(hours=4)
    [offer] = offers_in(send(matcher, request, asked_at))
    booking = book(offer)
    send(matcher, booking, asked_at)
    send(matcher, _cancelled_by_helper(booking), asked_at)

    # Asked again three hours before: the round ends when operators must know, an hour on,
    # not when a whole hour-long offer would.
    again_at = STARTS - timedelta(hours=3)
    [reoffer] = offers_in(send(matcher, request, again_at))
    assert reoffer.helper_id != offer.helper_id
    [due] = matcher.due_rounds(STARTS - timedelta(hours=2), {0})
    [unmatched] = matcher.round_due(due, STARTS - timedelta(hours=2))
    assert isinstance(unmatched.data, RequestUnmatched)
    assert "starts soon" in unmatched.data.reason
    assert {first, second, third} >= set(unmatched.data.tried_helper_ids)


def test_an_ask_that_overtakes_the_booking_it_follows_is_taken_up_once_the_booking_is_read() -> (
    None
):
    matcher = new_matcher()
    first_helper = add_helper(matcher, 100)
    second_helper = add_helper(matcher, 120)
    [request] = _series(1)
    opening = offers_in(send(matcher, request))
    chosen = next(o for o in opening if o.helper_id == first_helper)
    booking = book(chosen)

    # The streams are read in no order between them: the new ask comes first.
    repeated = offers_in(send(matcher, request))
    assert {o.offer_id for o in repeated} == {o.offer_id for o in opening}
    again = offers_in(send(matcher, booking))

    assert [o.helper_id for o in again] == [second_helper]
    assert again[0].round == 2


def test_a_held_request_asked_for_again_on_reinstatement_is_offered_afresh() -> None:
    matcher = new_matcher()
    helper = add_helper(matcher, 100)
    [request] = _series(1)
    [first] = offers_in(send(matcher, request))
    # The neighbour is suspended: booking holds the request and tells matching it is off.
    send(matcher, HelpRequestCancelled(request_id=request.request_id, neighbourhood=NEIGHBOURHOOD))
    # Reinstated: booking asks for it again.
    [again] = offers_in(send(matcher, request, NOW + timedelta(minutes=5)))

    assert again.helper_id == helper  # nobody was booked: everyone may be offered it again
    assert again.round == first.round + 1
