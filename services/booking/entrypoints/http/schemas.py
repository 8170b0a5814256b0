"""Request bodies of the HTTP API: shape and field rules, so errors name the field."""

from __future__ import annotations

import uuid
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from services.booking.domain.availability import Weekday
from services.booking.domain.visits import Repeat, is_on_the_hour
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import AsAgreed, SeeAgain

_HOUR = r"^([01][0-9]|2[0-4]):00$"


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Home(Body):
    """Where a person lives. Kept in booking; only H3 cells are published."""

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    address: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class SignUpBody(Body):
    """Open an account."""

    display_name: str = Field(min_length=1, max_length=80)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    password: str = Field(min_length=8, max_length=256)
    home: Home
    time_zone: str = Field(min_length=1, max_length=64)
    skills: list[Skill] = Field(default_factory=list, max_length=len(Skill))
    travel_radius_km: float = Field(default=2.0, ge=0, le=50)
    weekly_hour_cap: int = Field(default=4, ge=0, le=60)
    languages: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("not an IANA time zone such as Europe/London") from error
        return value


class SignInBody(Body):
    """Sign in with email and password."""

    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class RuleBody(Body):
    """Free every ``weekday`` from ``start`` to ``end``, in the person's local time."""

    weekday: Weekday
    start: str = Field(pattern=_HOUR, examples=["10:00"])
    end: str = Field(pattern=_HOUR, examples=["12:00"])

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if int(self.start[:2]) >= int(self.end[:2]) or self.start == "24:00":
            raise ValueError("start must be before end")
        return self


class AvailabilityBody(Body):
    """The whole set of weekly rules (replaces the previous set)."""

    rules: list[RuleBody] = Field(max_length=50)


class RepeatBody(Body):
    """How a request repeats."""

    every: Repeat
    occurrences: int = Field(ge=1, le=52)


class RequestBody(Body):
    """Ask for help."""

    skill: Skill
    starts_at: AwareDatetime = Field(description="ISO 8601 with an offset, on the hour.")
    hours: int = Field(ge=1, le=8)
    repeat: RepeatBody | None = None
    preferred_helper_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=1000)

    @field_validator("starts_at")
    @classmethod
    def _on_the_hour(cls, value: AwareDatetime) -> AwareDatetime:
        if not is_on_the_hour(value):
            raise ValueError("must be on the hour (minutes and seconds zero)")
        return value


class CancelBody(Body):
    """Why a booking is cancelled."""

    reason: str = Field(min_length=1, max_length=500)


class CheckInBody(Body):
    """Private answers after a visit; never shown to the other person."""

    see_again: SeeAgain
    as_agreed: AsAgreed
    note: str | None = Field(default=None, max_length=2000)


class VettingBody(Body):
    """A vetting step an operator records."""

    step: VettingStep
