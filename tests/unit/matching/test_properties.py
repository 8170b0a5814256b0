"""Properties of ranking and the cascade over random neighbourhoods."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain import (
    BookedVisit,
    HelperView,
    Policy,
    Progress,
    Standing,
    is_eligible,
    next_round,
    rank,
)
from services.matching.domain.model import hours_of
from shared.contracts.requests import HelpRequested, OfferMade
from shared.contracts.skills import Skill
from shared.contracts.trust import RelationshipStage
from tests.unit.matching.factories import STARTS, helper, relationship, request

NOW = datetime(2031, 3, 1, tzinfo=UTC)
POLICY = Policy(regular_hold_s=60, offer_ttl_s=300, cascade_width=3, cascade_rounds=4)


@st.composite
def helpers(draw: st.DrawFn, neighbour_id: uuid.UUID) -> HelperView:
    person_id = uuid.uuid4()
    related = draw(st.booleans())
    view = helper(
        person_id=person_id,
        metres=draw(st.floats(0, 8000)),
        visits_ever=draw(st.integers(0, 3)),
        relationship=relationship(
            person_id,
            neighbour_id,
            stage=draw(st.sampled_from(RelationshipStage)),
            visits=draw(st.integers(0, 9)),
            both_want_again=draw(st.booleans()),
            matchable=draw(st.booleans()),
        )
        if related
        else None,
        skills=frozenset(draw(st.sets(st.sampled_from(Skill), max_size=3)) | {Skill.SHOPPING})
        if draw(st.booleans())
        else frozenset(draw(st.sets(st.sampled_from(Skill), max_size=3))),
        weekly_hour_cap=draw(st.integers(0, 12)),
    )
    offsets = draw(st.lists(st.integers(-3, 5), max_size=4))
    bookings = tuple(BookedVisit(STARTS + timedelta(hours=o), 1) for o in offsets)
    standing = draw(
        st.sampled_from(
            [
                None,
                Standing(True, {Skill.SHOPPING: STARTS + timedelta(days=9)}),
                Standing(False, {Skill.SHOPPING: STARTS - timedelta(days=1)}),
                Standing(False, {Skill.SHOPPING: STARTS + timedelta(days=9)}),
            ]
        )
    )
    return dataclasses.replace(view, bookings=bookings, standing=standing)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[HelperView], HelpRequested]:
    asked = request(hours=draw(st.integers(1, 3)))
    crowd = draw(st.lists(helpers(asked.neighbour_id), max_size=8))
    return crowd, asked


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_ranking_never_offers_an_ineligible_helper(
    scenario: tuple[list[HelperView], HelpRequested],
) -> None:
    crowd, asked = scenario
    by_id = {h.profile.person_id: h for h in crowd}
    ranked = rank(crowd, asked, width=3)
    assert {c.helper_id for c in ranked} == {
        h.profile.person_id for h in crowd if is_eligible(h, asked)
    }
    for candidate in ranked:
        chosen = by_id[candidate.helper_id]
        booked = {hour for visit in chosen.bookings for hour in visit.hours_covered()}
        assert not booked & set(hours_of(asked.starts_at, asked.hours))
        assert chosen.relationship is None or chosen.relationship.matchable
        assert candidate.reasons


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_a_free_regular_helper_is_offered_first_and_alone(
    scenario: tuple[list[HelperView], HelpRequested],
) -> None:
    crowd, asked = scenario
    regular_id = uuid.uuid4()
    regular = helper(
        person_id=regular_id,
        relationship=relationship(regular_id, asked.neighbour_id, visits=99),
    )
    ranked = rank([*crowd, regular], asked, width=3)
    progress = Progress(
        request=asked, event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), partition=0
    )
    advanced, events = next_round(progress, ranked, POLICY, NOW)
    assert [e.helper_id for e in events if isinstance(e, OfferMade)] == [regular_id]
    assert advanced.due_at == NOW + timedelta(seconds=POLICY.regular_hold_s)
    # The same step again gives the very same offers: a redelivery has one effect.
    _, again = next_round(progress, ranked, POLICY, NOW)
    assert again == events
