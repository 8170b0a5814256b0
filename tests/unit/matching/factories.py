"""Building helpers and requests for matching's unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.matching.domain import HelperProfile, HelperView, Relationship, Standing
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.contracts.trust import RelationshipStage
from shared.geo import cell_of, neighbourhood_of

LAT, LNG = 51.5, -0.1
NEIGHBOURHOOD = neighbourhood_of(LAT, LNG)
HOME = cell_of(LAT, LNG)
STARTS = datetime(2031, 3, 3, 10, tzinfo=UTC)  # a Monday


def near(metres: float) -> str:
    return cell_of(LAT + metres / 111_000, LNG)


def request(**changes: object) -> HelpRequested:
    fields: dict[str, object] = {
        "request_id": uuid.uuid4(),
        "series_id": uuid.uuid4(),
        "occurrence": 1,
        "occurrences": 1,
        "neighbour_id": uuid.uuid4(),
        "neighbourhood": NEIGHBOURHOOD,
        "cell": HOME,
        "skill": Skill.SHOPPING,
        "starts_at": STARTS,
        "hours": 2,
        **changes,
    }
    return HelpRequested.model_validate(fields)


def helper(
    *,
    metres: float = 300,
    visits_ever: int = 1,
    relationship: Relationship | None = None,
    **profile_changes: object,
) -> HelperView:
    person_id = profile_changes.pop("person_id", None) or uuid.uuid4()
    profile = HelperProfile(
        person_id=person_id,  # type: ignore[arg-type]
        display_name="Helper",
        cell=near(metres),
        skills=frozenset({Skill.SHOPPING}),
        travel_radius_km=5,
        weekly_hour_cap=10,
    )
    for name, value in profile_changes.items():
        object.__setattr__(profile, name, value)
    return HelperView(
        profile=profile,
        free_hours=frozenset(STARTS + timedelta(hours=h) for h in range(-3, 6)),
        standing=Standing(False, {Skill.SHOPPING: STARTS + timedelta(days=30)}),
        relationship=relationship,
        visits_ever=visits_ever,
    )


def relationship(
    helper_id: uuid.UUID,
    neighbour_id: uuid.UUID,
    *,
    stage: RelationshipStage = RelationshipStage.REGULAR,
    visits: int = 6,
    both_want_again: bool = True,
    matchable: bool = True,
) -> Relationship:
    return Relationship(helper_id, neighbour_id, stage, visits, both_want_again, matchable)
