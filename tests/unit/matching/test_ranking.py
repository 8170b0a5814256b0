"""The order of offers, and their reasons."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from services.matching.domain import BookedVisit, Tier, rank
from shared.contracts.requests import ReasonCode
from shared.contracts.trust import RelationshipStage
from tests.unit.matching.factories import STARTS, helper, relationship, request


def test_the_regular_helper_comes_first_even_when_farther() -> None:
    asked = request()
    regular_id = uuid.uuid4()
    regular = helper(
        person_id=regular_id,
        metres=2000,
        relationship=relationship(regular_id, asked.neighbour_id, visits=6),
    )
    ranked = rank([helper(metres=100), regular], asked, width=3)
    assert ranked[0].helper_id == regular_id
    assert ranked[0].tier is Tier.PRIORITY
    assert any(r.text == "You have visited this neighbour 6 times" for r in ranked[0].reasons)


def test_the_preferred_helper_comes_before_the_regular() -> None:
    preferred = uuid.uuid4()
    asked = request(preferred_helper_id=preferred)
    regular_id = uuid.uuid4()
    regular = helper(
        person_id=regular_id, relationship=relationship(regular_id, asked.neighbour_id)
    )
    ranked = rank([regular, helper(person_id=preferred, metres=900)], asked, width=3)
    assert [c.helper_id for c in ranked] == [preferred, regular_id]
    assert ranked[0].reasons[0].code is ReasonCode.PREFERRED_BY_NEIGHBOUR


def test_met_before_ranks_above_nearby_and_nearby_by_fewest_hours_then_distance() -> None:
    asked = request()
    met_id = uuid.uuid4()
    met = helper(
        person_id=met_id,
        metres=3000,
        relationship=relationship(met_id, asked.neighbour_id, stage=RelationshipStage.PAUSED),
    )
    close, far = helper(metres=100), helper(metres=1500)
    ranked = rank([far, close, met], asked, width=5)
    assert [c.helper_id for c in ranked] == [
        met_id,
        close.profile.person_id,
        far.profile.person_id,
    ]
    assert ranked[0].tier is Tier.MET
    assert ranked[1].reasons[-1].text == "You have 0 hours booked this week"


def test_every_round_keeps_a_place_for_a_newcomer() -> None:
    asked = request()
    established = [helper(metres=100 + i) for i in range(4)]
    newcomer = helper(metres=4000, visits_ever=0)
    ranked = rank([*established, newcomer], asked, width=2)
    assert newcomer.profile.person_id in {c.helper_id for c in ranked[:2]}
    assert any(r.code is ReasonCode.NEWCOMER for r in ranked[1].reasons)


def test_booked_hours_spread_work_among_helpers_about_as_near_not_across_the_area() -> None:
    asked = request()
    week = [BookedVisit(STARTS + timedelta(hours=h), 1) for h in (-3, 4)]
    busy_near = dataclasses.replace(helper(metres=200), bookings=tuple(week))
    idle_next_door = helper(metres=250)
    idle_far = helper(metres=1200)
    ranked = rank([idle_far, busy_near, idle_next_door], asked, width=3)
    # Two booked hours outweigh 50 m, but not a kilometre.
    assert [c.helper_id for c in ranked] == [
        idle_next_door.profile.person_id,
        busy_near.profile.person_id,
        idle_far.profile.person_id,
    ]
