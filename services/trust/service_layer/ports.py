"""The port trust's handlers work through: one transaction over trust's own state, opened
by a ``shared.unit_of_work.UnitOfWorkStarter[TrustUnitOfWork]``."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any, Protocol

from services.trust.domain.concerns import Concern
from services.trust.domain.relationship import Relationship
from services.trust.domain.standing import Standing, StepRecord
from shared.contracts import Envelope
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import (
    CheckInSubmitted,
    ConcernOutcome,
    ConcernRaised,
    VettingOutcome,
)


class TrustUnitOfWork(Protocol):
    """Everything one event may read or change, committed together or not at all.

    Events given to ``publish`` are written to the outbox in the same transaction.
    """

    async def first_delivery(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record that ``consumer`` applies ``event_id``; False if it already has."""
        ...

    async def relationship(self, pair_id: str) -> Relationship | None:
        """The pair's record, locked until commit; None for a pair trust has not met."""
        ...

    async def save_relationship(self, relationship: Relationship, *, new: bool) -> None:
        """Insert (``new``) or update a pair's record."""
        ...

    async def stale_relationships(self, before: datetime, limit: int) -> list[Relationship]:
        """Pairs that have met and whose last visit is before ``before``, locked."""
        ...

    async def count_visit(self, booking_id: uuid.UUID, pair_id: str) -> bool:
        """Remember that a booking's visit was counted; False if it already was."""
        ...

    async def record_checkin(self, checkin: CheckInSubmitted, *, submitted_at: datetime) -> bool:
        """Keep one person's private answers; False if this check-in was already kept."""
        ...

    async def record_vetting_step(
        self,
        event_id: uuid.UUID,
        person_id: uuid.UUID,
        step: VettingStep,
        *,
        outcome: VettingOutcome,
        recorded_by: str,
        recorded_at: datetime,
    ) -> None:
        """Keep one record of a vetting step: how it went, who recorded it and when (why a
        step failed stays with whoever recorded it)."""
        ...

    async def latest_steps(self, person_id: uuid.UUID) -> dict[VettingStep, StepRecord]:
        """The latest record of each step recorded for the person."""
        ...

    async def set_skills(
        self,
        person_id: uuid.UUID,
        *,
        profile: list[Skill] | None = None,
        vetting: list[Skill] | None = None,
    ) -> None:
        """Remember the skills a person offers, from their profile or from vetting."""
        ...

    async def offered_skills(self, person_id: uuid.UUID) -> set[Skill]:
        """The skills a person offers: their profile's, or vetting's until a profile is seen."""
        ...

    async def standing(self, person_id: uuid.UUID) -> Standing:
        """The standing last published for a person (empty if none), locked until commit."""
        ...

    async def save_standing(self, standing: Standing) -> None:
        """Remember the standing about to be published (and when its next approval lapses)."""
        ...

    async def relationships_of(self, person_id: uuid.UUID) -> list[Relationship]:
        """Every pair the person is in, locked until commit."""
        ...

    async def count_mark(self, booking_id: uuid.UUID, kind: str) -> bool:
        """Remember that a booking's late cancellation or no-show was counted; False if it was."""
        ...

    async def record_concern(self, concern: ConcernRaised, *, raised_at: datetime) -> bool:
        """Keep a concern, open; False if it was already kept."""
        ...

    async def concern(self, concern_id: uuid.UUID) -> Concern | None:
        """One concern, locked until commit; None if trust never saw it raised."""
        ...

    async def resolve_concern(
        self,
        concern_id: uuid.UUID,
        outcome: ConcernOutcome,
        *,
        resolved_by: str,
        resolved_at: datetime,
    ) -> None:
        """Close a concern with an operator's outcome (the reason stays in booking)."""
        ...

    async def suspension(self, person_id: uuid.UUID) -> tuple[int, bool]:
        """How many concerns about the person are open, and whether they were removed."""
        ...

    async def set_removed(self, person_id: uuid.UUID) -> None:
        """Remember that an operator removed the person (they stay suspended)."""
        ...

    async def due_expiries(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """People with an approval that has lapsed by ``now``, locked (others skipped)."""
        ...

    async def next_expiry(self) -> datetime | None:
        """When the earliest published approval lapses (None if there is none)."""
        ...

    def publish(self, envelope: Envelope[Any]) -> None:
        """Write an event to the outbox when the unit of work commits."""
        ...

    async def erased_among(self, people: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these people's accounts were deleted."""
        ...

    async def erase_person(self, person_id: uuid.UUID, erased_at: datetime) -> bool:
        """Remember the person as erased and ``scrub`` them; False if they were erased
        before."""
        ...

    async def scrub(self, person_id: uuid.UUID) -> None:
        """Delete or empty what trust keeps of an erased person beyond what safeguarding and
        the other side of their pairs need: concerns stay without their texts, pairs stay."""
        ...

    def tombstone(self, topic: str, key: bytes) -> None:
        """Write a tombstone (a null value under ``key`` on the compacted ``topic``) when the
        unit of work commits, after its events."""
        ...
