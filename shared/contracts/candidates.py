"""An operator's hand in matching: asking who could take a request, and offering it to one.

Only matching knows who is eligible (availability, weekly caps, distance, trust's pair
blocks and suspensions), so booking asks it on an operator's behalf, on the ``requests``
stream keyed by the request's neighbourhood (the partition holding that neighbourhood's
state), and matching answers on ``offers``, keyed by the request. Who the operator is, and
why they acted, stays in booking's audit trail: no name or reason of theirs travels.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.envelope import Payload
from shared.contracts.requests import HelpRequested, Reason
from shared.contracts.skills import Skill
from shared.contracts.types import Cell, Hours, LanguageCode, Neighbourhood

#: At most this many helpers are listed in one answer, best first.
MAX_CANDIDATES = 30


class _RequestFields(Payload):
    """The fields of a request that matching decides by, as ``HelpRequested`` carries them:
    matching can answer even for a request whose state it does not hold."""

    request_id: uuid.UUID
    series_id: uuid.UUID
    occurrence: int = Field(ge=1)
    occurrences: int | None = Field(default=None, ge=1)
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    cell: Cell
    skill: Skill
    starts_at: AwareDatetime
    hours: Hours
    preferred_helper_id: uuid.UUID | None = None
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)

    def as_request(self) -> HelpRequested:
        """The request these fields describe."""
        return HelpRequested.model_validate(self.model_dump(exclude=set(_OWN_FIELDS)))


#: Fields of the events below that are not the request's.
_OWN_FIELDS = frozenset({"query_id", "direction_id", "helper_id"})


class CandidatesAsked(_RequestFields):
    """An operator asks who could take a waiting or escalated request.

    Matching answers with ``candidates.listed`` carrying the same ``query_id``; it changes
    nothing of the request's progress.
    """

    TYPE = "candidates.asked"

    query_id: uuid.UUID


class Candidate(BaseModel):
    """A helper matching would offer the request to, with the reasons it would give."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    helper_id: uuid.UUID
    reasons: list[Reason] = Field(default_factory=list, max_length=10)
    #: Matching has offered them this request already (they let it go, or it lapsed).
    offered_before: bool = False


class PassedOver(BaseModel):
    """A helper near enough and offering the skill whom matching may not offer the request
    to, and why not, in matching's words (never a concern's or a person's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    helper_id: uuid.UUID
    why: str = Field(max_length=200)


class CandidatesListed(Payload):
    """Matching's answer to ``candidates.asked``: the eligible helpers, best first, and the
    ones near the request it passed over, each with why."""

    TYPE = "candidates.listed"

    query_id: uuid.UUID
    request_id: uuid.UUID
    neighbourhood: Neighbourhood
    candidates: list[Candidate] = Field(default_factory=list, max_length=MAX_CANDIDATES)
    passed_over: list[PassedOver] = Field(default_factory=list, max_length=MAX_CANDIDATES)


class OfferDirected(_RequestFields):
    """An operator offers a waiting or escalated request to one helper they chose.

    Matching offers it to that helper alone (an ``offer.made`` whose reasons say an operator
    chose them), who accepts or declines in their app as for any offer; when they let it go,
    the request goes back to operators. A helper matching may not offer it to is refused
    with ``offer.direction_refused``.
    """

    TYPE = "offer.directed"

    direction_id: uuid.UUID
    helper_id: uuid.UUID


class OfferDirectionRefused(Payload):
    """Matching did not offer the request to the helper an operator chose, and why (the
    helper is not eligible, or the request is no longer waiting)."""

    TYPE = "offer.direction_refused"

    direction_id: uuid.UUID
    request_id: uuid.UUID
    helper_id: uuid.UUID
    neighbourhood: Neighbourhood
    reason: str = Field(max_length=300)
    #: When matching decided.
    refused_at: AwareDatetime
