"""A person's standing: which skills their vetting approves and until when, whether they are
suspended, and the marks operators see (late cancellations and no-shows)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.contracts.skills import REQUIRED_STEPS, Skill, VettingStep
from shared.contracts.trust import VettingOutcome


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


@dataclass(frozen=True, slots=True)
class StepRecord:
    """The latest record of one vetting step of a person: how it went, and when."""

    outcome: VettingOutcome
    at: datetime


#: How long a pass of each step counts by default (settings change it): identity is checked
#: once; references, the interview and the background check are renewed every three years.
DEFAULT_VALIDITY: Mapping[VettingStep, timedelta | None] = {
    VettingStep.IDENTITY: None,
    VettingStep.REFERENCES: timedelta(days=3 * 365),
    VettingStep.INTERVIEW: timedelta(days=3 * 365),
    VettingStep.BACKGROUND_CHECK: timedelta(days=3 * 365),
}

#: Given for an approval none of whose steps lapse (never the case with today's steps).
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def approvals(
    latest: Mapping[VettingStep, StepRecord],
    offered: Set[Skill],
    *,
    validity: Mapping[VettingStep, timedelta | None],
    now: datetime,
) -> dict[Skill, datetime]:
    """Each offered skill whose required steps all stand, with when its approval expires.

    A step stands while its latest record is a pass within that step's own validity, so an
    approval lasts until the first of its required steps lapses: recording one step again
    renews that step and no other.

    Args:
        latest: The latest record of each step recorded for the person.
        offered: The skills the person offers.
        validity: How long a pass of each step counts; ``None`` (or absent) for good.
        now: Approvals already expired at this moment are left out.
    """
    result: dict[Skill, datetime] = {}
    for skill in offered:
        until = _standing_until(latest, REQUIRED_STEPS[skill], validity, now)
        if until is not None:
            result[skill] = until
    return result


def _standing_until(
    latest: Mapping[VettingStep, StepRecord],
    steps: Set[VettingStep],
    validity: Mapping[VettingStep, timedelta | None],
    now: datetime,
) -> datetime | None:
    """When the first of ``steps`` stops standing; None if one does not stand now."""
    expiries = [NEVER]
    for step in steps:
        record = latest.get(step)
        if record is None or record.outcome is not VettingOutcome.PASSED:
            return None
        lasts = validity.get(step)
        if lasts is not None:
            expiries.append(record.at + lasts)
    until = min(expiries)
    return until if until > now else None


def is_suspended(*, open_concerns: int, removed: bool) -> bool:
    """A person is suspended while any concern about them is open, and for good once removed."""
    return removed or open_concerns > 0
