"""Who may be offered a request."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from services.matching.domain import BookedVisit, Hold, Standing, why_ineligible
from shared.contracts.skills import Skill
from tests.unit.matching.factories import STARTS, helper, near, relationship, request


def test_a_vetted_free_nearby_helper_is_eligible() -> None:
    assert why_ineligible(helper(), request()) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"standing": None}, "has no standing"),
        ({"standing": Standing(True, {Skill.SHOPPING: STARTS + timedelta(days=1)})}, "suspended"),
        ({"standing": Standing(False, {})}, "not approved"),
        ({"standing": Standing(False, {Skill.SHOPPING: STARTS})}, "expires"),
        ({"free_hours": frozenset({STARTS})}, "every requested hour"),
        ({"bookings": (BookedVisit(STARTS + timedelta(hours=1), 1),)}, "already booked"),
    ],
)
def test_each_rule_excludes(change: dict[str, object], reason: str) -> None:
    view = dataclasses.replace(helper(), **change)  # type: ignore[arg-type]
    assert reason in (why_ineligible(view, request()) or "")


def test_the_skill_radius_cap_and_the_neighbour_themself_are_checked() -> None:
    asked = request()
    far = helper(metres=9000)
    assert "does not offer" in (why_ineligible(helper(skills=frozenset()), asked) or "")
    assert "radius" in (why_ineligible(far, asked) or "")
    capped = dataclasses.replace(
        helper(weekly_hour_cap=3), bookings=(BookedVisit(STARTS + timedelta(days=2), 2),)
    )
    assert "weekly cap" in (why_ineligible(capped, asked) or "")
    themself = helper(person_id=asked.neighbour_id)
    assert why_ineligible(themself, asked) == "is the neighbour"


def test_an_unmatchable_pair_is_never_eligible() -> None:
    asked = request()
    person = uuid.uuid4()
    pair = relationship(person, asked.neighbour_id, matchable=False)
    view = helper(person_id=person, relationship=pair, metres=50)
    assert why_ineligible(view, asked) == "the pair is not matchable"
    assert near(50)


def test_hours_held_by_a_regulars_request_are_kept_from_other_requests() -> None:
    asked = request()
    hold = Hold(uuid.uuid4(), STARTS + timedelta(hours=1), 1)
    held = dataclasses.replace(helper(), held=(hold,))
    assert why_ineligible(held, asked) == (
        "is being asked first by a regular neighbour for a requested hour"
    )
    # The request that holds them is still theirs to take.
    assert why_ineligible(held, asked.model_copy(update={"request_id": hold.request_id})) is None
