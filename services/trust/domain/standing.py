"""A person's standing: which skills their vetting approves and until when, whether they are
suspended, and the marks operators see (late cancellations and no-shows)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.contracts.skills import REQUIRED_STEPS, Skill, VettingStep, approved_skills


@dataclass(frozen=True, slots=True)
class Standing:
    """What matching and operators are told about a person, published whole on any change.

    ``suspended`` is true while a concern about them is open, and for good once an operator
    removed them. ``late_cancellations`` and ``no_shows`` are plain counts for operators to
    read; no rule acts on them automatically.
    """

    person_id: uuid.UUID
    suspended: bool = False
    approved: Mapping[Skill, datetime] = field(default_factory=dict)
    late_cancellations: int = 0
    no_shows: int = 0

    @property
    def next_expiry(self) -> datetime | None:
        """When the earliest approval lapses (None without approvals)."""
        return min(self.approved.values(), default=None)


def approvals(
    passed: Mapping[VettingStep, datetime],
    offered: Set[Skill],
    *,
    valid_for: timedelta,
    now: datetime,
) -> dict[Skill, datetime]:
    """Each offered skill whose required steps are all passed, with when its approval expires.

    Args:
        passed: Each step passed, with when it was (last) recorded.
        offered: The skills the person offers.
        valid_for: An approval lasts this long after the latest of its required steps.
        now: Approvals already expired at this moment are left out.
    """
    result: dict[Skill, datetime] = {}
    for skill in approved_skills(set(passed), set(offered)):
        expires = max(passed[step] for step in REQUIRED_STEPS[skill]) + valid_for
        if expires > now:
            result[skill] = expires
    return result


def is_suspended(*, open_concerns: int, removed: bool) -> bool:
    """A person is suspended while any concern about them is open, and for good once removed."""
    return removed or open_concerns > 0
