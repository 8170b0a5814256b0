"""Statuses and time rules of requests, offers and bookings."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class RequestStatus(StrEnum):
    """Where one occurrence of a request stands."""

    OPEN = "open"
    BOOKED = "booked"
    UNMATCHED = "unmatched"
    CANCELLED = "cancelled"


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


class Repeat(StrEnum):
    """How often a repeating request comes back."""

    WEEK = "week"
    FORTNIGHT = "fortnight"


_STEP = {Repeat.WEEK: timedelta(weeks=1), Repeat.FORTNIGHT: timedelta(weeks=2)}


def is_on_the_hour(moment: datetime) -> bool:
    """Whether a time falls exactly on a whole hour."""
    return moment.minute == 0 and moment.second == 0 and moment.microsecond == 0


def occurrence_starts(
    starts_at: datetime, repeat: Repeat | None, occurrences: int
) -> list[datetime]:
    """The start of each occurrence, a fixed number of UTC weeks apart."""
    if repeat is None:
        return [starts_at]
    return [starts_at + _STEP[repeat] * index for index in range(occurrences)]


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


def is_late_cancel(starts_at: datetime, now: datetime, window_s: int) -> bool:
    """Whether a cancellation comes inside the notice window before the visit."""
    return starts_at - now < timedelta(seconds=window_s)
