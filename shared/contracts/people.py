"""Events about people and the hours they offer (stream ``people`` and ``availability``)."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, Field

from shared.contracts.envelope import Payload
from shared.contracts.skills import Skill
from shared.contracts.types import Cell, Neighbourhood


class PersonProfileChanged(Payload):
    """A person's public, matchable profile, sent whole on sign-up and on every change.

    Only coarse places travel: ``neighbourhood`` (the partition key) and ``cell`` (for
    distances). The home address and phone number never leave the booking service.
    """

    TYPE = "person.profile_changed"

    person_id: uuid.UUID
    display_name: str = Field(min_length=1, max_length=80)
    neighbourhood: Neighbourhood
    cell: Cell
    skills: list[Skill] = Field(default_factory=list, max_length=len(Skill))
    travel_radius_km: float = Field(ge=0, le=50)
    weekly_hour_cap: int = Field(ge=0, le=60)
    languages: list[str] = Field(default_factory=list, max_length=10)


class AvailabilityChanged(Payload):
    """The whole hours a person offers over a horizon, expanded from their weekly rules.

    Sent whole each time so a consumer needs no history. Bookings are not subtracted here:
    consumers learn of bookings from the bookings stream.
    """

    TYPE = "availability.changed"

    person_id: uuid.UUID
    neighbourhood: Neighbourhood
    horizon_start: AwareDatetime
    horizon_end: AwareDatetime
    free_hours: list[AwareDatetime] = Field(default_factory=list, max_length=24 * 7 * 8)


class PersonErased(Payload):
    """A person's account was deleted: every service forgets what it holds about them.

    Carries the person's id and nothing else of theirs; ``neighbourhood`` (their last one, the
    partition key) keeps it behind their earlier profile events on the stream, so no consumer
    applies a profile after the erasure. Trust ends the person's relationships and erases
    its records of them, matching forgets them, and the partners gateway erases its copies and
    tells the partners that read the people stream, so they can erase theirs.
    """

    TYPE = "person.erased"

    person_id: uuid.UUID
    neighbourhood: Neighbourhood
