"""Request bodies of the HTTP API: shape and field rules, so errors name the field."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from services.booking.domain.availability import Weekday
from services.booking.domain.visits import Repeat, is_on_the_hour
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import AsAgreed, SeeAgain, VettingOutcome

_HOUR = r"^([01][0-9]|2[0-4]):00$"


def _sane_year(value: datetime) -> None:
    # Far-off years overflow once a series or a time zone moves them: refuse them here.
    if not 2000 <= value.year <= 2200:
        raise ValueError("must be a year between 2000 and 2200")


def _on_the_hour(value: datetime) -> datetime:
    _sane_year(value)
    if not is_on_the_hour(value):
        raise ValueError("must be on the hour (minutes and seconds zero)")
    return value


#: A start time with an offset, on the hour, in a sane year.
OnTheHour = Annotated[
    AwareDatetime,
    AfterValidator(_on_the_hour),
    Field(description="ISO 8601 with an offset, on the hour."),
]


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL or lone surrogates: refuse them as a 422 here
        # rather than fail in the database.
        _check_text(data)
        return data


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        try:
            value.encode()
        except UnicodeEncodeError as error:
            raise ValueError("text must be valid Unicode") from error
    elif isinstance(value, dict):
        for item in value.values():
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


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
    languages: list[Language] = Field(default_factory=list, max_length=10)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value)


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError("not an IANA time zone such as Europe/London") from error
    return value


Language = Annotated[
    str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
]


class HomeChange(Body):
    """A new home: both coordinates, and optionally the address and phone with them."""

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class ProfilePatch(Body):
    """Fields of my profile to change; those left out stay as they are."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    languages: list[Language] | None = Field(default=None, max_length=10)
    accessibility_notes: str | None = Field(default=None, max_length=1000)
    home: HomeChange | None = None
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)
    skills: list[Skill] | None = Field(default=None, max_length=len(Skill))
    travel_radius_km: float | None = Field(default=None, ge=0, le=50)
    weekly_hour_cap: int | None = Field(default=None, ge=0, le=60)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _known_zone(value)


class SignInBody(Body):
    """Sign in with email and password."""

    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class RuleBody(Body):
    """Free every ``weekday`` from ``start`` to ``end``, in the person's local time."""

    weekday: Weekday
    start: str = Field(pattern=_HOUR, max_length=5, examples=["10:00"])
    end: str = Field(pattern=_HOUR, max_length=5, examples=["12:00"])

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if int(self.start[:2]) >= int(self.end[:2]) or self.start == "24:00":
            raise ValueError("start must be before end")
        return self


class AwayBody(Body):
    """Away on every day from ``first_day`` to ``last_day`` inclusive (local dates)."""

    kind: Literal["away"]
    first_day: date
    last_day: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if not 2000 <= self.first_day.year <= self.last_day.year <= 2200:
            raise ValueError("days must be in years 2000 to 2200")
        if self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        return self


class ExtraBody(Body):
    """Free on ``day`` from ``start`` to ``end`` (local time), besides the weekly rules."""

    kind: Literal["extra"]
    day: date
    start: str = Field(pattern=_HOUR, max_length=5, examples=["14:00"])
    end: str = Field(pattern=_HOUR, max_length=5, examples=["16:00"])

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if int(self.start[:2]) >= int(self.end[:2]) or self.start == "24:00":
            raise ValueError("start must be before end")
        return self


ExceptionBody = Annotated[AwayBody | ExtraBody, Field(discriminator="kind")]


class AvailabilityBody(Body):
    """The whole set of weekly rules and dated exceptions (replaces the previous set)."""

    rules: list[RuleBody] = Field(max_length=50)
    exceptions: list[ExceptionBody] = Field(default_factory=list, max_length=100)


class RepeatBody(Body):
    """How a request repeats."""

    every: Repeat
    occurrences: int = Field(ge=1, le=52)


class RequestBody(Body):
    """Ask for help."""

    skill: Skill
    starts_at: OnTheHour
    hours: int = Field(ge=1, le=8)
    repeat: RepeatBody | None = None
    preferred_helper_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=1000)


class RescheduleBody(Body):
    """A new time for a booking, to be confirmed by the other side."""

    starts_at: OnTheHour
    hours: int | None = Field(default=None, ge=1, le=8, description="Unchanged when left out.")


class NoShowBody(Body):
    """The other side was not there; a short note for operators is optional."""

    note: str | None = Field(default=None, max_length=500)


class CancelBody(Body):
    """Why a booking is cancelled."""

    reason: str = Field(min_length=1, max_length=500)


class CheckInBody(Body):
    """Private answers after a visit; never shown to the other person."""

    see_again: SeeAgain
    as_agreed: AsAgreed
    note: str | None = Field(default=None, max_length=2000)


class VettingBody(Body):
    """How a helper did at a vetting step, as an operator records it.

    A failed or revoked step needs a reason; ``recorded_by`` names the operator (kept with
    the step, for operators only).
    """

    step: VettingStep
    outcome: VettingOutcome = VettingOutcome.PASSED
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    recorded_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The operator recording the step (stored as operator:<name>).",
    )
