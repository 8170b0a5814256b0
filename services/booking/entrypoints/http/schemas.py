"""Request bodies of the HTTP API: shape and field rules, so errors name the field."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal, Self
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from services.booking.domain.availability import Weekday
from services.booking.domain.visits import Repeat, is_on_the_hour
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import AsAgreed, SeeAgain, VettingOutcome

_HOUR = r"^([01][0-9]|2[0-4]):00$"

#: What a page's ``cursor`` looks like: the ``next_cursor`` of the previous page, or empty.
CURSOR_PATTERN = r"^[0-9]{0,18}$"

#: Text PostgreSQL can store: no NUL. Declared on every free-text field of the OpenAPI
#: document; ``Body`` refuses it (and lone surrogates, which are no Unicode text) with a 422.
TEXT_PATTERN = r"^[^\x00]*$"

# A start on the hour as the API reads it: a date of years 2000-2200 that exists (29 February
# in leap years only), a whole local hour, and an offset. The date-time formats pydantic also
# accepts (a space for the T, no seconds with a fraction, ...) are refused, so that the
# document's pattern and the API agree on every string.
_MONTH_DAY = (
    r"((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    r"|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    r"|02-(0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_YEAR = r"(2(0([02468][048]|[13579][26])|1([02468][48]|[13579][26]|[2468]0)))"
_DATE = rf"((2[01][0-9]{{2}}|2200)-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
ON_THE_HOUR_PATTERN = (
    rf"^{_DATE}T([01][0-9]|2[0-3]):00(:00(\.0{{1,6}})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_ON_THE_HOUR = re.compile(ON_THE_HOUR_PATTERN)


def _sane_year(value: datetime) -> None:
    # Far-off years overflow once a series or a time zone moves them: refuse them here.
    if not 2000 <= value.year <= 2200:
        raise ValueError("must be a year between 2000 and 2200")


def _on_the_hour(value: datetime) -> datetime:
    _sane_year(value)
    if not is_on_the_hour(value):
        raise ValueError("must be on the hour (minutes and seconds zero)")
    return value


def _on_the_hour_text(value: Any) -> Any:
    # Only text: pydantic would also read a number as seconds since 1970.
    if not isinstance(value, str) or not _ON_THE_HOUR.match(value):
        raise ValueError(
            "must be on the hour, with an offset, in years 2000 to 2200"
            " (such as 2026-03-02T10:00:00Z)"
        )
    return value


DAY_PATTERN = rf"^{_DATE}$"
_DAY = re.compile(DAY_PATTERN)


def _day_text(value: Any) -> Any:
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValueError("must be a date of years 2000 to 2200, such as 2026-03-02")
    return value


#: A local date, as text, in years 2000 to 2200.
Day = Annotated[
    date,
    BeforeValidator(_day_text),
    WithJsonSchema(
        {"type": "string", "pattern": DAY_PATTERN, "maxLength": 10, "examples": ["2030-03-04"]}
    ),
]


#: A start time with an offset, on the hour, in a sane year.
OnTheHour = Annotated[
    AwareDatetime,
    BeforeValidator(_on_the_hour_text),
    AfterValidator(_on_the_hour),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ON_THE_HOUR_PATTERN,
            "maxLength": len("2030-03-04T10:00:00.000000+05:30"),
            "description": "ISO 8601 with an offset, on the hour, in years 2000 to 2200.",
            "examples": ["2030-03-04T10:00:00Z"],
        }
    ),
]


def _declare_storable_text(schema: dict[str, Any]) -> None:
    """Declare in the OpenAPI document the text rule ``Body`` enforces on every string field."""
    for field in schema.get("properties", {}).values():
        for variant in field.get("anyOf", [field]):
            if variant.get("type") == "string" and not {"pattern", "enum", "format"} & set(variant):
                variant["pattern"] = TEXT_PATTERN


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_declare_storable_text)

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


#: An e-mail address: something, an @, a domain with a dot; no spaces and nothing unstorable.
EMAIL_PATTERN = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"

#: A mobile phone number in international form (E.164): a ``+``, the country code, and the
#: number, digits only (the web app takes out the spaces people type).
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_PHONE = re.compile(PHONE_PATTERN)


def _e164(value: Any) -> Any:
    if not isinstance(value, str) or not _PHONE.match(value):
        raise ValueError(
            "must be a mobile phone number in international form (E.164): a +, the country"
            " code and the number, digits only, such as +447700900123"
        )
    return value


#: A phone number one signs in with and is sent text messages on.
Phone = Annotated[
    str,
    BeforeValidator(_e164),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PHONE_PATTERN,
            "maxLength": 16,
            "description": "A mobile phone number in E.164 form, digits only after the +.",
            "examples": ["+447700900123"],
        }
    ),
]


def email_or_phone(schema: dict[str, Any]) -> None:
    """Declare that a body names an account by its email, its phone, or both."""
    _declare_storable_text(schema)
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "string", "maxLength": 254}}}
        for name in ("email", "phone")
    ]


@cache
def time_zones() -> list[str]:
    """Every IANA time zone Kith knows (those of the installed tzdata), sorted."""
    return sorted(available_timezones())


def _known_zone(value: str) -> str:
    # The same list the document declares: ZoneInfo alone also opens keys such as
    # "posixrules" that are no time zone a person lives in.
    if value not in time_zones():
        raise ValueError("not an IANA time zone such as Europe/London")
    return value


TimeZone = Annotated[
    str,
    AfterValidator(_known_zone),
    WithJsonSchema(
        {
            "type": "string",
            "description": "An IANA time zone, such as Europe/London.",
            "enum": time_zones(),
        }
    ),
]


class Home(Body):
    """Where a person lives. Kept in booking; only H3 cells are published."""

    lat: float = Field(strict=True, ge=-90, le=90)
    lng: float = Field(strict=True, ge=-180, le=180)
    address: str = Field(min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


#: A language as a BCP 47 code ("cy", "en", "pt-BR"): matching prefers a helper who shares
#: one, and only codes travel on topics.
Language = Annotated[
    str,
    Field(
        min_length=2,
        max_length=35,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        examples=["cy", "en", "pl"],
    ),
]


class SignUpBody(Body):
    """Open an account, with an email, a mobile phone number, or both (at least one): the
    account signs in with either, and someone with a phone only is told everything by text
    message."""

    model_config = ConfigDict(json_schema_extra=email_or_phone)

    display_name: str = Field(min_length=1, max_length=80)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=254)
    phone: Phone | None = None
    password: str = Field(min_length=8, max_length=256)
    home: Home
    time_zone: TimeZone
    skills: list[Skill] = Field(default_factory=list, max_length=len(Skill))
    travel_radius_km: float = Field(strict=True, default=2.0, ge=0, le=50)
    weekly_hour_cap: int = Field(strict=True, default=4, ge=0, le=60)
    languages: list[Language] = Field(default_factory=list, max_length=10)


class HomeChange(Body):
    """A new home: both coordinates, and optionally the address and phone with them."""

    lat: float = Field(strict=True, ge=-90, le=90)
    lng: float = Field(strict=True, ge=-180, le=180)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class ProfilePatch(Body):
    """Fields of my profile to change; those left out stay as they are."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    languages: list[Language] | None = Field(default=None, max_length=10)
    accessibility_notes: str | None = Field(default=None, max_length=1000)
    home: HomeChange | None = None
    time_zone: TimeZone | None = None
    skills: list[Skill] | None = Field(default=None, max_length=len(Skill))
    travel_radius_km: float | None = Field(strict=True, default=None, ge=0, le=50)
    weekly_hour_cap: int | None = Field(strict=True, default=None, ge=0, le=60)


class SignInBody(Body):
    """Sign in with an email or a mobile phone number (one of them), and the password."""

    model_config = ConfigDict(json_schema_extra=email_or_phone)

    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(
        default=None,
        max_length=40,
        description="The mobile phone number signed up with (E.164, such as +447700900123).",
    )
    password: str = Field(max_length=256)

    @property
    def account(self) -> str:
        """The email or phone the sign-in names (counted by the sign-in limits)."""
        return self.email or self.phone or ""


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
    first_day: Day
    last_day: Day

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
    day: Day
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
    """How a request repeats: a number of occurrences, or until a last day, or (neither)
    until cancelled. Occurrences are made a few weeks ahead, and more as time passes."""

    every: Repeat
    occurrences: int | None = Field(default=None, strict=True, ge=1, le=520)
    until: date | None = Field(
        default=None, description="The last local day an occurrence may fall on."
    )

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if self.occurrences is not None and self.until is not None:
            raise ValueError("give occurrences or until, not both")
        if self.until is not None and not 2000 <= self.until.year <= 2200:
            raise ValueError("until must be in years 2000 to 2200")
        return self


class AcceptBody(Body):
    """What an accept answers for: this occurrence, or its whole series from here on."""

    scope: Literal["occurrence", "series"] = Field(
        default="occurrence",
        description="``series``: take on this occurrence and every later one of its series "
        "(you become the neighbour's regular for it; later occurrences are booked with you "
        "as they come into range, when you are free).",
    )


class StepBackBody(Body):
    """Why one steps back from a series (optional, for the record)."""

    reason: str | None = Field(default=None, max_length=500)


class RequestBody(Body):
    """Ask for help."""

    skill: Skill
    starts_at: OnTheHour
    hours: int = Field(strict=True, ge=1, le=8)
    repeat: RepeatBody | None = None
    preferred_helper_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=1000)


class RescheduleBody(Body):
    """A new time for a booking, to be confirmed by the other side."""

    starts_at: OnTheHour
    hours: int | None = Field(
        strict=True, default=None, ge=1, le=8, description="Unchanged when left out."
    )


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
    evidence: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description='What was seen ("passport checked in person"): kept for operators only.',
    )
    recorded_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The operator recording the step (stored as operator:<name>).",
    )


class ReviewBody(Body):
    """An operator clears an account held for review, saying why (kept, operators only).

    Say why without personal details (e.g. "spoke to them; the earlier concern was mistaken").
    """

    reason: str = Field(min_length=1, max_length=500)
    operator: str | None = Field(
        default=None, min_length=1, max_length=120, description="The operator who reviewed it."
    )
