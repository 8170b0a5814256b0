"""A series' regular and who stepped back from it, and a shared language, in matching."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.matching.domain import rank
from shared.contracts.bookings import BookingCancelled, Side
from shared.contracts.people import PersonProfileChanged
from shared.contracts.requests import HelpRequested, ReasonCode, SeriesChanged
from shared.contracts.skills import Skill
from tests.unit.matching.factories import HOME, NEIGHBOURHOOD, STARTS, helper, request
from tests.unit.matching.support import WEEK, add_helper, book, new_matcher, offers_in, send


def _occurrence(series_id: uuid.UUID, neighbour_id: uuid.UUID, number: int) -> HelpRequested:
    return HelpRequested(
        request_id=uuid.uuid4(),
        series_id=series_id,
        occurrence=number,
        occurrences=None,
        neighbour_id=neighbour_id,
        neighbourhood=NEIGHBOURHOOD,
        cell=HOME,
        skill=Skill.SHOPPING,
        starts_at=STARTS + WEEK * (number - 1),
        hours=2,
    )


def test_a_helper_who_shares_a_language_is_preferred_and_told_why() -> None:
    welsh = request(languages=["cy", "en"])
    speaks = helper(metres=700, languages=frozenset({"cy"}))
    nearer = helper(metres=400)
    far_speaker = helper(metres=2500, languages=frozenset({"cy"}))
    ranked = rank([nearer, speaks, far_speaker], welsh, width=3)
    assert [c.helper_id for c in ranked] == [
        speaks.profile.person_id,
        nearer.profile.person_id,
        far_speaker.profile.person_id,
    ]
    reasons = {r.code: r.text for r in ranked[0].reasons}
    assert reasons[ReasonCode.SHARED_LANGUAGE] == "Speaks Welsh"
    assert ReasonCode.SHARED_LANGUAGE not in {r.code for r in ranked[1].reasons}


def test_a_neighbour_without_languages_ranks_by_distance_alone() -> None:
    plain = request()
    speaks = helper(metres=700, languages=frozenset({"cy"}))
    nearer = helper(metres=400)
    assert [c.helper_id for c in rank([speaks, nearer], plain, width=3)] == [
        nearer.profile.person_id,
        speaks.profile.person_id,
    ]


def test_languages_reach_matching_on_the_profile_and_name_the_offer() -> None:
    matcher = new_matcher()
    near_one = add_helper(matcher, 100)
    speaker = add_helper(matcher, 400)
    profile = matcher.state.helper(NEIGHBOURHOOD, speaker).profile
    assert profile is not None

    send(
        matcher,
        PersonProfileChanged(
            person_id=speaker,
            display_name="Speaker",
            neighbourhood=NEIGHBOURHOOD,
            cell=profile.cell,
            skills=[Skill.SHOPPING],
            travel_radius_km=5,
            weekly_hour_cap=10,
            languages=["CY", "en-GB"],
        ),
    )
    asked = _occurrence(uuid.uuid4(), uuid.uuid4(), 1)
    asked = asked.model_copy(update={"occurrences": 1, "languages": ["cy"]})
    [first, *_] = offers_in(send(matcher, asked))
    assert first.helper_id == speaker
    assert "Speaks Welsh" in [r.text for r in first.reasons]
    assert near_one != speaker


def test_the_regular_who_took_a_series_on_is_offered_it_first() -> None:
    matcher = new_matcher()
    add_helper(matcher, 100)
    regular = add_helper(matcher, 900)
    series_id, neighbour_id = uuid.uuid4(), uuid.uuid4()
    send(
        matcher,
        SeriesChanged(
            series_id=series_id,
            neighbour_id=neighbour_id,
            neighbourhood=NEIGHBOURHOOD,
            regular_helper_id=regular,
        ),
    )
    offers = offers_in(send(matcher, _occurrence(series_id, neighbour_id, 3)))
    assert [o.helper_id for o in offers] == [regular]
    assert ReasonCode.REGULAR_HELPER in {r.code for r in offers[0].reasons}


def test_a_helper_who_stepped_back_is_never_offered_the_series_again() -> None:
    matcher = new_matcher()
    first = add_helper(matcher, 100)
    other = add_helper(matcher, 300)
    series_id, neighbour_id = uuid.uuid4(), uuid.uuid4()
    opening = _occurrence(series_id, neighbour_id, 1)
    offered = offers_in(send(matcher, opening))
    mine = next(o for o in offered if o.helper_id == first)
    send(matcher, book(mine))
    # Booked for the series, so first in line for the next occurrence...
    assert [
        o.helper_id for o in offers_in(send(matcher, _occurrence(series_id, neighbour_id, 2)))
    ] == [first]
    # ...until they step back: the rest goes to others, and never to them.
    send(
        matcher,
        SeriesChanged(
            series_id=series_id,
            neighbour_id=neighbour_id,
            neighbourhood=NEIGHBOURHOOD,
            stepped_back_helper_ids=[first],
        ),
    )
    later = offers_in(send(matcher, _occurrence(series_id, neighbour_id, 3)))
    assert [o.helper_id for o in later] == [other]
    assert STARTS + 2 * WEEK - later[0].starts_at == timedelta(0)


def test_a_booked_week_asked_again_after_a_step_back_goes_to_someone_else() -> None:
    matcher = new_matcher()
    first = add_helper(matcher, 100)
    other = add_helper(matcher, 300)
    series_id, neighbour_id = uuid.uuid4(), uuid.uuid4()
    week = _occurrence(series_id, neighbour_id, 1)
    offered = offers_in(send(matcher, week))
    booked = book(next(o for o in offered if o.helper_id == first))
    send(matcher, booked)
    send(
        matcher,
        SeriesChanged(
            series_id=series_id,
            neighbour_id=neighbour_id,
            neighbourhood=NEIGHBOURHOOD,
            stepped_back_helper_ids=[first],
        ),
    )
    # Booking cancels the week the helper stepped back from (their hours are free again) and
    # asks for it anew.
    fields = {name: getattr(booked, name) for name in type(booked).model_fields}
    fields.pop("offer_id")
    fields.pop("referred_by")
    cancelled = BookingCancelled(**fields, cancelled_by=Side.HELPER, late=False)
    send(matcher, cancelled)
    again = offers_in(send(matcher, week))
    assert [o.helper_id for o in again] == [other]
