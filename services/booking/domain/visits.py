"""Statuses and time rules of requests, offers and bookings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class RequestStatus(StrEnum):
    """Where one occurrence of a request stands."""

    OPEN = "open"
    BOOKED = "booked"
    UNMATCHED = "unmatched"
    CANCELLED = "cancelled"
    #: Its neighbour is suspended: it waits, offered to nobody, until they are reinstated.
    HELD = "held"


class OfferStatus(StrEnum):
    """Where an offer to a helper stands (``expired`` is worked out when read)."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class BookingStatus(StrEnum):
    """Where a booked visit stands."""

    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    #: One side was not there (``no_show_absent`` says which).
    NO_SHOW = "no_show"


class Repeat(StrEnum):
    """How often a repeating request comes back."""

    WEEK = "week"
    FORTNIGHT = "fortnight"


_STEP = {Repeat.WEEK: timedelta(weeks=1), Repeat.FORTNIGHT: timedelta(weeks=2)}


def is_on_the_hour(moment: datetime) -> bool:
    """Whether a time falls exactly on a whole hour."""
    return moment.minute == 0 and moment.second == 0 and moment.microsecond == 0


def occurrence_starts(
    starts_at: datetime, repeat: Repeat | None, occurrences: int, time_zone: str = "UTC"
) -> list[datetime]:
    """The UTC start of each occurrence, whole weeks apart in ``time_zone``'s wall clock.

    A weekly Tuesday 10:00 in London stays at 10:00 local across a daylight-saving change,
    so its UTC instant moves by the change. A wall time that falls in a spring gap is
    taken at the offset before the gap (``fold=0``), an hour later on the wall clock.
    """
    if repeat is None:
        return [starts_at]
    zone = ZoneInfo(time_zone)
    wall = starts_at.astimezone(zone).replace(tzinfo=None)
    return [
        (wall + _STEP[repeat] * index).replace(tzinfo=zone).astimezone(UTC)
        for index in range(occurrences)
    ]


def booked_hours(starts_at: datetime, hours: int) -> list[datetime]:
    """Each whole hour a visit takes."""
    return [starts_at + timedelta(hours=index) for index in range(hours)]


def effective_offer_status(status: str, expires_at: datetime, now: datetime) -> OfferStatus:
    """An open offer past its expiry reads as expired."""
    if status == OfferStatus.OPEN and expires_at <= now:
        return OfferStatus.EXPIRED
    return OfferStatus(status)


def address_visible(
    *, is_helper: bool, status: str, starts_at: datetime, now: datetime, window_s: int
) -> bool:
    """Only the confirmed helper of an upcoming visit, and only shortly before it, sees the
    neighbour's address."""
    if not is_helper or status not in {BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN}:
        return False
    return now < starts_at <= now + timedelta(seconds=window_s)


def may_reschedule(status: str) -> bool:
    """Only a visit that is still to happen can be moved."""
    return status == BookingStatus.CONFIRMED


def may_report_no_show(status: str, starts_at: datetime, now: datetime) -> bool:
    """A no-show can be reported once the visit was due to start and before check-in."""
    return status == BookingStatus.CONFIRMED and starts_at <= now


def is_late_cancel(starts_at: datetime, now: datetime, window_s: int) -> bool:
    """Whether a cancellation comes inside the notice window before the visit."""
    return starts_at - now < timedelta(seconds=window_s)


def visit_end(starts_at: datetime, hours: int) -> datetime:
    """When a visit is due to end."""
    return starts_at + timedelta(hours=hours)


def check_in_problem(
    starts_at: datetime, hours: int, now: datetime, opens_before_s: int
) -> str | None:
    """Why the helper may not check in now, or ``None``: check-in opens ``opens_before_s``
    before the visit's start and closes at its end."""
    opens = starts_at - timedelta(seconds=opens_before_s)
    if now < opens:
        return f"check-in opens at {opens.isoformat()}, {opens_before_s // 60} min before the visit"
    if now >= visit_end(starts_at, hours):
        return "the visit's time is over: check-in has closed"
    return None


#: What every event about one visit says of it (``booking.confirmed``, ``.cancelled``, ...).
VISIT_FIELDS = (
    "booking_id",
    "request_id",
    "helper_id",
    "neighbour_id",
    "neighbourhood",
    "skill",
    "starts_at",
    "hours",
)


def visit_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A booking's row as the fields every event about the visit carries."""
    return {name: row[name] for name in VISIT_FIELDS}
