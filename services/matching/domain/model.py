"""What matching knows about helpers, their standing and their relationships: plain values."""

from __future__ import annotations

import uuid
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.contracts.skills import Skill
from shared.contracts.trust import RelationshipStage


@dataclass(frozen=True, slots=True)
class HelperProfile:
    """A helper's matchable profile (from ``PersonProfileChanged``)."""

    person_id: uuid.UUID
    display_name: str
    cell: str
    skills: frozenset[Skill]
    travel_radius_km: float
    weekly_hour_cap: int
    #: Language codes the helper speaks (a neighbour who shares one prefers them).
    languages: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class BookedVisit:
    """Hours a helper has been booked for."""

    starts_at: datetime
    hours: int

    def hours_covered(self) -> list[datetime]:
        """Each whole hour the visit takes."""
        return hours_of(self.starts_at, self.hours)


@dataclass(frozen=True, slots=True)
class Hold:
    """Hours a helper is being asked for first, alone, by a neighbour they visit regularly
    (or who asked for them): not offered to anyone else until that request moves on."""

    request_id: uuid.UUID
    starts_at: datetime
    hours: int

    def hours_covered(self) -> list[datetime]:
        """Each whole hour the hold takes."""
        return hours_of(self.starts_at, self.hours)


@dataclass(frozen=True, slots=True)
class Standing:
    """Trust's word on a person: suspended or not, and skills approved until when."""

    suspended: bool
    approved_skills: dict[Skill, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Relationship:
    """How one helper and one neighbour are getting on (from ``RelationshipChanged``)."""

    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    stage: RelationshipStage
    visits: int
    both_want_again: bool
    matchable: bool


@dataclass(frozen=True, slots=True)
class HelperView:
    """Everything needed to judge one helper for one request.

    Attributes:
        profile: The helper's profile.
        free_hours: The whole UTC hours the helper offers (``hour in free_hours``): their
            weekly rules, which answer for any date, or a set of hours.
        bookings: Visits the helper is already booked for.
        standing: Trust's standing, or ``None`` when trust has said nothing yet (not vetted).
        relationship: The helper's relationship with the request's neighbour, if any.
        visits_ever: Visits the helper has made to anyone (0 makes a newcomer).
        held: Hours the helper is being asked for first by their own regular neighbours.
    """

    profile: HelperProfile
    free_hours: Container[datetime]
    bookings: tuple[BookedVisit, ...] = ()
    standing: Standing | None = None
    relationship: Relationship | None = None
    visits_ever: int = 0
    held: tuple[Hold, ...] = ()


def hours_of(starts_at: datetime, hours: int) -> list[datetime]:
    """The whole hours from ``starts_at`` for ``hours`` hours."""
    return [starts_at + timedelta(hours=offset) for offset in range(hours)]


def same_week(first: datetime, second: datetime) -> bool:
    """Whether two moments fall in the same ISO week (Monday to Sunday, UTC)."""
    return first.isocalendar()[:2] == second.isocalendar()[:2]
