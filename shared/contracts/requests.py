"""Events about help asked for (stream ``requests``) and matching's answers (``offers``)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.envelope import Payload
from shared.contracts.skills import Skill
from shared.contracts.types import Cell, Hours, LanguageCode, Neighbourhood


class HelpRequested(Payload):
    """One occurrence of help to be matched: a skill, a start on the hour, whole hours.

    A weekly or fortnightly request is sent as one event per occurrence, all sharing
    ``series_id`` so matching can aim for one helper for the whole series. A series rolls
    forward: booking sends its occurrences a few weeks ahead, and more as time passes.

    Version 2: a series may be open-ended (``occurrences`` is ``None``) and run past 52
    occurrences; ``languages`` carries the neighbour's languages, as codes only, so that a
    helper who shares one can be preferred. Version 1 reads as version 2 with no languages.
    """

    TYPE = "help.requested"
    VERSION = 2

    request_id: uuid.UUID
    series_id: uuid.UUID
    occurrence: int = Field(ge=1)
    #: How many occurrences the series has, or ``None`` while it runs until cancelled.
    occurrences: int | None = Field(default=None, ge=1)
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    cell: Cell
    skill: Skill
    starts_at: AwareDatetime
    hours: Hours
    preferred_helper_id: uuid.UUID | None = None
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)

    @property
    def recurring(self) -> bool:
        """Whether this occurrence belongs to a series of more than one."""
        return self.occurrences is None or self.occurrences > 1


class SeriesChanged(Payload):
    """A recurring request's standing arrangement, sent whole on every change.

    ``regular_helper_id`` took the whole series on: booking books each later occurrence with
    them as it comes into range, when they are free. Helpers in ``stepped_back_helper_ids``
    stepped back from the series (or the neighbour stepped back from them): matching offers
    them none of its occurrences again. ``active`` is false once the series is cancelled.
    """

    TYPE = "series.changed"

    series_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    regular_helper_id: uuid.UUID | None = None
    stepped_back_helper_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    active: bool = True


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
    #: The helper speaks one of the neighbour's languages. Added in ``offer.made`` version 3.
    SHARED_LANGUAGE = "shared_language"
    #: An operator chose this helper for the request (``offer.directed``). Added in
    #: ``offer.made`` version 4.
    OPERATOR_CHOSEN = "operator_chosen"


class Reason(BaseModel):
    """One reason an offer went to a helper, with words a person can read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: ReasonCode
    text: str = Field(max_length=200)


class OfferMade(Payload):
    """Matching offers one occurrence to one helper until ``expires_at``.

    Version 2 added the reason code ``short_notice``, version 3 ``shared_language`` (the
    helper speaks one of the neighbour's languages), version 4 ``operator_chosen`` (an
    operator offered it to this helper); an older offer reads unchanged.
    """

    TYPE = "offer.made"
    VERSION = 4

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


def upcast_offer_v2_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 is version 3 without a shared language among the reasons: nothing to change."""
    return data


def upcast_offer_v3_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 is version 4 without an operator's choice among the reasons: nothing to
    change."""
    return data
