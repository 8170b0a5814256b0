"""A helper's standing: which skills their vetting approves, until when, and suspension."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.contracts.skills import REQUIRED_STEPS, Skill, VettingStep, approved_skills


@dataclass(frozen=True, slots=True)
class Standing:
    """What matching is told about a person: suspended or not, and approved skills.

    ``suspended`` is always false until concerns are handled; it is kept here so a change to
    it is published like any other.
    """

    person_id: uuid.UUID
    suspended: bool = False
    approved: Mapping[Skill, datetime] = field(default_factory=dict)


def approvals(
    passed: Mapping[VettingStep, datetime],
    offered: Set[Skill],
    *,
    valid_days: int,
    now: datetime,
) -> dict[Skill, datetime]:
    """Each offered skill whose required steps are all passed, with when its approval expires.

    Args:
        passed: Each step passed, with when it was (last) recorded.
        offered: The skills the person offers.
        valid_days: An approval lasts this long after the latest of its required steps.
        now: Approvals already expired at this moment are left out.
    """
    result: dict[Skill, datetime] = {}
    for skill in approved_skills(set(passed), set(offered)):
        expires = max(passed[step] for step in REQUIRED_STEPS[skill]) + timedelta(days=valid_days)
        if expires > now:
            result[skill] = expires
    return result
