"""What callers ask booking to do, already checked for shape by the entrypoint."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from services.booking.domain.availability import DatedException, WeeklyRule
from services.booking.domain.visits import Repeat
from shared.contracts.skills import Skill
from shared.contracts.trust import AsAgreed, SeeAgain


@dataclass(frozen=True, slots=True)
class SignUp:
    """Open an account that both gives and receives help."""

    display_name: str
    email: str | None
    password_hash: str | None
    """The encoded hash (``Passwords.hash``), made before any transaction opens; ``None``
    for someone an operator registers (they may set one with the link they are sent)."""
    lat: float
    lng: float
    address: str
    phone: str | None
    """The contact phone given with the home (texts go to it)."""
    time_zone: str
    skills: list[Skill] = field(default_factory=list)
    travel_radius_km: float = 2.0
    weekly_hour_cap: int = 4
    languages: list[str] = field(default_factory=list)
    sign_in_phone: str | None = None
    """The mobile number (E.164) the account signs in with, unique like an email; texts go
    to it when no other phone is given."""


@dataclass(frozen=True, slots=True)
class SetAvailability:
    """Replace a person's weekly rules."""

    person_id: uuid.UUID
    rules: list[WeeklyRule]
    exceptions: list[DatedException] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UpdateProfile:
    """Change some of a person's own profile fields; ``None`` leaves a field as it is."""

    person_id: uuid.UUID
    display_name: str | None = None
    languages: list[str] | None = None
    accessibility_notes: str | None = None
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    phone: str | None = None
    time_zone: str | None = None
    skills: list[Skill] | None = None
    travel_radius_km: float | None = None
    weekly_hour_cap: int | None = None


@dataclass(frozen=True, slots=True)
class AskForHelp:
    """Ask for a skill at a time, once or repeating."""

    neighbour_id: uuid.UUID
    skill: Skill
    starts_at: datetime
    hours: int
    repeat: Repeat | None = None
    #: How many occurrences a repeating request has; ``None`` with no ``until``: it runs
    #: until cancelled.
    occurrences: int | None = 1
    #: The last local day a repeating request may fall on, instead of a count.
    until: date | None = None
    preferred_helper_id: uuid.UUID | None = None
    notes: str | None = None
    #: The event that asked on the neighbour's behalf (a partner's referral), if any: its
    #: correlation carries on into the requests, and it is their cause.
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class SubmitCheckIn:
    """One person's private answers after a completed visit."""

    booking_id: uuid.UUID
    author_id: uuid.UUID
    see_again: SeeAgain
    as_agreed: AsAgreed
    note: str | None = None
