"""Events about help asked for (stream ``requests``) and matching's answers (``offers``)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.envelope import Payload
from shared.contracts.skills import Skill
from shared.contracts.types import Cell, Hours, Neighbourhood


class HelpRequested(Payload):
    """One occurrence of help to be matched: a skill, a start on the hour, whole hours.

    A weekly or fortnightly request is sent as one event per occurrence, all sharing
    ``series_id`` so matching can aim for one helper for the whole series.
    """

    TYPE = "help.requested"

    request_id: uuid.UUID
    series_id: uuid.UUID
    occurrence: int = Field(ge=1, le=52)
    occurrences: int = Field(ge=1, le=52)
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    cell: Cell
    skill: Skill
    starts_at: AwareDatetime
    hours: Hours
    preferred_helper_id: uuid.UUID | None = None


class HelpRequestCancelled(Payload):
    """The neighbour no longer needs this occurrence; open offers for it lapse."""

    TYPE = "help.request_cancelled"

    request_id: uuid.UUID
    neighbourhood: Neighbourhood


class ReasonCode(StrEnum):
    """Why a helper was chosen for an offer."""

    REGULAR_HELPER = "regular_helper"
    PREFERRED_BY_NEIGHBOUR = "preferred_by_neighbour"
    MET_BEFORE = "met_before"
    NEARBY = "nearby"
    FEW_HOURS_THIS_WEEK = "few_hours_this_week"
    NEWCOMER = "newcomer"
    PARTNER_SERVICE = "partner_service"
    #: Not why the helper was chosen but what they should know: the visit starts soon (a
    #: helper cancelled, or a suspension held it). Added in ``offer.made`` version 2.
    SHORT_NOTICE = "short_notice"


class Reason(BaseModel):
    """One reason an offer went to a helper, with words a person can read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: ReasonCode
    text: str = Field(max_length=200)


class OfferMade(Payload):
    """Matching offers one occurrence to one helper until ``expires_at``.

    Version 2 added the reason code ``short_notice``; a version 1 offer reads unchanged.
    """

    TYPE = "offer.made"
    VERSION = 2

    offer_id: uuid.UUID
    request_id: uuid.UUID
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    skill: Skill
    starts_at: AwareDatetime
    hours: Hours
    round: int = Field(ge=1)
    expires_at: AwareDatetime
    reasons: list[Reason] = Field(default_factory=list, max_length=10)


class RequestUnmatched(Payload):
    """Matching has tried every eligible helper; an operator should step in."""

    TYPE = "request.unmatched"

    request_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    skill: Skill
    starts_at: AwareDatetime
    rounds: int = Field(ge=0)
    tried_helper_ids: list[uuid.UUID] = Field(default_factory=list)
    reason: str = Field(max_length=300)


def upcast_offer_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 is version 2 without offers at short notice: nothing to change."""
    return data
