"""Events about people and the hours they offer (stream ``people`` and ``availability``)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.contracts.envelope import Payload
from shared.contracts.skills import Skill
from shared.contracts.types import Cell, Neighbourhood
from shared.weekly_hours import Weekday


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


# Version 1, superseded by ``AvailabilityChangedV2`` (rules that hold for any date): a
# version 1 event says nothing past its ``horizon_end``. Still read, so that a stream written
# before version 2 keeps its meaning; its docstring is part of its released schema.
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


_HOUR = Field(ge=0, le=24)


class _Spanning(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start_hour: int = _HOUR
    end_hour: int = _HOUR

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start_hour >= self.end_hour:
            raise ValueError("start_hour must be before end_hour")
        return self


class WeeklySpan(_Spanning):
    """Free every ``weekday`` from ``start_hour`` to ``end_hour`` (exclusive), local time."""

    weekday: Weekday


class AwayDays(BaseModel):
    """Not free on any local date from ``first_day`` to ``last_day`` (inclusive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_day: dt.date
    last_day: dt.date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        return self


class ExtraDay(_Spanning):
    """Free on the local date ``day`` from ``start_hour`` to ``end_hour``, besides the rules."""

    day: dt.date


class AvailabilityChangedV2(Payload):
    """The hours a person offers, as their weekly rules in their own zone: valid until changed.

    Consumers work out whether any whole UTC hour is free, for any date and with no horizon,
    from ``time_zone``, ``rules`` and the dated exceptions (``shared.weekly_hours``): a local
    hour stays put across daylight-saving changes, a local hour in the spring gap is not free,
    one in the autumn overlap is free once (its first pass), and away days win over rules and
    extra hours. Sent whole on every change (of the rules or of the person's zone). Bookings
    are not subtracted: consumers learn of them from the bookings stream.
    """

    TYPE = "availability.changed"
    VERSION = 2

    person_id: uuid.UUID
    neighbourhood: Neighbourhood
    time_zone: str = Field(min_length=1, max_length=64, description="IANA, e.g. Europe/London.")
    rules: list[WeeklySpan] = Field(default_factory=list, max_length=7 * 24)
    away: list[AwayDays] = Field(default_factory=list, max_length=100)
    extra: list[ExtraDay] = Field(default_factory=list, max_length=100)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("not an IANA time zone") from error
        return value


class LinkPurpose(StrEnum):
    """What a link sent to a person lets them do."""

    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    #: Since version 2: someone an operator registered is welcomed and may choose a
    #: password with it (it works as a reset link does).
    WELCOME = "welcome"


class AccountLinkRequested(Payload):
    """A person should be sent a link (to verify their email, to reset their password, or
    to choose one after an operator registered them).

    Ids only: never the token, nor the address or phone. Booking keeps only a digest of the
    token, minted when notify asks for it (``POST /v1/internal/account-links/{link_id}/token``,
    operators' token) just before sending; the plaintext is in the message and nowhere else.

    Version 2 adds the ``welcome`` purpose; a version 1 event reads as version 2 unchanged.
    """

    TYPE = "account.link_requested"
    VERSION = 2

    link_id: uuid.UUID
    person_id: uuid.UUID
    purpose: LinkPurpose
    expires_at: AwareDatetime


def upcast_link_requested_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had the same fields and fewer purposes: it reads as version 2 unchanged."""
    return dict(data)
