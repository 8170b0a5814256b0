"""Private check-ins and vetting (``checkins``, ``vetting``) and trust's answers
(``relationships``, ``standing``)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field

from shared.contracts.envelope import Payload
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.types import Neighbourhood


class SeeAgain(StrEnum):
    """ "Would you like to see each other again?" Never shown to the other person."""

    YES = "yes"
    NOT_SURE = "not_sure"
    NO = "no"


class AsAgreed(StrEnum):
    """ "Did the visit go as agreed?\""""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class CheckInSubmitted(Payload):
    """One person's private answers after a visit. Travels only on a private stream.

    Version 2 carries only whether the author wrote a note (``has_note``), never the note:
    booking keeps it (``upcast_checkin_v1_v2`` drops a version 1 event's note).
    """

    TYPE = "checkin.submitted"
    VERSION = 2

    checkin_id: uuid.UUID
    booking_id: uuid.UUID
    author_id: uuid.UUID
    about_id: uuid.UUID
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    see_again: SeeAgain
    as_agreed: AsAgreed
    has_note: bool = False


def upcast_checkin_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 carried the note itself: only whether there was one is kept."""
    rest = {name: value for name, value in data.items() if name != "note"}
    return {**rest, "has_note": bool(data.get("note"))}


class VettingOutcome(StrEnum):
    """What became of a vetting step when it was recorded."""

    #: The helper passed it: it counts until it lapses (see trust's step validity).
    PASSED = "passed"
    #: The helper did not pass it.
    FAILED = "failed"
    #: An earlier pass no longer stands (a background check's finding came to light, say).
    REVOKED = "revoked"


class VettingStepRecorded(Payload):
    """An operator (or a partner allowed to vet) records how a helper did at one step.

    Trust counts the latest record of each step: a failure or a revocation withdraws the
    approvals that need the step until it is passed again. Version 2 added ``outcome`` and
    ``reason``; a version 1 event reads as a pass (``upcast_vetting_v1_v2``). Version 3 no
    longer carries the reason, written by an operator about a person: whoever recorded the
    step keeps it (booking, for operators); ``upcast_vetting_v2_v3`` drops it.
    """

    TYPE = "vetting.step_recorded"
    VERSION = 3

    person_id: uuid.UUID
    step: VettingStep
    outcome: VettingOutcome = VettingOutcome.PASSED
    recorded_by: str = Field(min_length=1, max_length=120)
    skills_offered: list[Skill] = Field(default_factory=list)


def upcast_vetting_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 recorded passes only."""
    return {**data, "outcome": VettingOutcome.PASSED.value}


def upcast_vetting_v2_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 carried a failure's reason: version 3 leaves it with whoever recorded it."""
    return {name: value for name, value in data.items() if name != "reason"}


class RelationshipStage(StrEnum):
    """Where the relationship between two people stands."""

    INTRODUCED = "introduced"
    FIRST_VISIT = "first_visit"
    REGULAR = "regular"
    PAUSED = "paused"
    ENDED = "ended"


class RelationshipChanged(Payload):
    """Trust's whole record of one pair, sent on every change (a compacted stream).

    ``matchable`` is false once either person said "not again" or a concern ended the pair;
    the reason is deliberately absent so that no consumer can tell the other person.
    """

    TYPE = "relationship.changed"

    pair_id: str = Field(pattern=r"^[0-9a-f-]{36}:[0-9a-f-]{36}$")
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    stage: RelationshipStage
    visits: int = Field(ge=0)
    hours_together: int = Field(ge=0)
    both_want_again: bool
    matchable: bool
    last_visit_at: AwareDatetime | None = None


class StandingChanged(Payload):
    """A person's standing for matching: suspended or not, and the skills they are vetted for.

    Keyed by person; sent whole on every change (a compacted stream).
    """

    TYPE = "standing.changed"

    person_id: uuid.UUID
    suspended: bool
    approved_skills: dict[Skill, AwareDatetime] = Field(
        default_factory=dict,
        description="Each skill the helper may be offered, with when that approval expires.",
    )
    # Added later, for operators: absent (zero) in older events, and left out when zero so
    # that events written before them still read and write back the same.
    late_cancellations: int = Field(
        default=0,
        ge=0,
        exclude_if=lambda count: count == 0,
        description="Visits this person cancelled inside the notice window.",
    )
    no_shows: int = Field(
        default=0,
        ge=0,
        exclude_if=lambda count: count == 0,
        description="Visits this person did not turn up to.",
    )


class RaisedBy(StrEnum):
    """Who raised a safeguarding concern."""

    PERSON = "person"
    OPERATOR = "operator"
    PARTNER = "partner"


class ConcernOutcome(StrEnum):
    """How an operator resolved a concern."""

    REINSTATE = "reinstate"
    REMOVE = "remove"


class ConcernRaised(Payload):
    """Someone raised a safeguarding concern about a person: trust suspends them at once.

    Travels only on the private ``concerns`` stream, keyed by the person it is about. Version
    2 no longer carries the summary: booking keeps it, and operators read it through
    booking's operator API (``GET /v1/operator/concerns``). ``upcast_concern_raised_v1_v2``
    drops a version 1 event's summary.
    """

    TYPE = "concern.raised"
    VERSION = 2

    concern_id: uuid.UUID
    about_id: uuid.UUID
    raised_by_id: uuid.UUID | None = Field(
        default=None, description="The person who raised it; null for an operator or partner."
    )
    raised_by_role: RaisedBy
    booking_id: uuid.UUID | None = None

    @property
    def person_id(self) -> uuid.UUID:
        """The person the concern is about (the stream's key)."""
        return self.about_id


class ConcernResolved(Payload):
    """An operator resolved a concern: the person is reinstated, or removed for good.

    Version 2 no longer carries the operator's reason: booking keeps it with the concern.
    ``upcast_concern_resolved_v1_v2`` drops a version 1 event's reason.
    """

    TYPE = "concern.resolved"
    VERSION = 2

    concern_id: uuid.UUID
    about_id: uuid.UUID
    outcome: ConcernOutcome
    resolved_by: str = Field(min_length=1, max_length=120)

    @property
    def person_id(self) -> uuid.UUID:
        """The person the concern is about (the stream's key)."""
        return self.about_id


def upcast_concern_raised_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 carried the concern's summary: booking keeps it, the event no longer."""
    return {name: value for name, value in data.items() if name != "summary"}


def upcast_concern_resolved_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 carried the operator's reason: booking keeps it, the event no longer."""
    return {name: value for name, value in data.items() if name != "reason"}
