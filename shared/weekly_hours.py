"""Weekly availability rules in local time, and the whole UTC hours they make free.

A person's hours are valid until they change them: ``WeeklyHours`` answers "is this hour
free?" for any date, however far ahead, and ``expand`` lists a span's free hours. Booking
keeps the rules; matching holds them from the availability event and asks about each hour a
request wants. Pure standard library: both services' domains use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

#: How far ahead ``expand`` lists free hours by default (a preview; no rule stops there).
HORIZON_DAYS = 28


class Weekday(StrEnum):
    """A day of the week, in the order ``date.weekday()`` counts them."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """0 for Monday to 6 for Sunday."""
        return _NUMBERS[self]


#: Each weekday by ``date.weekday()``, and back: looked up per rule and hour checked, where
#: listing the enum each time cost microseconds (most of a membership test).
_BY_NUMBER = tuple(Weekday)
_NUMBERS = {day: number for number, day in enumerate(_BY_NUMBER)}


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """Free every ``weekday`` from ``start_hour`` to ``end_hour`` (exclusive), local time."""

    weekday: Weekday
    start_hour: int
    end_hour: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour < self.end_hour <= 24:
            raise ValueError("start must be before end, both within the day")


@dataclass(frozen=True, slots=True)
class Away:
    """Not available on any day from ``first_day`` to ``last_day`` (inclusive), local dates."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("the last day must not be before the first")


@dataclass(frozen=True, slots=True)
class ExtraHours:
    """Free on ``day`` from ``start_hour`` to ``end_hour`` (exclusive), besides the rules."""

    day: date
    start_hour: int
    end_hour: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour < self.end_hour <= 24:
            raise ValueError("start must be before end, both within the day")


DatedException = Away | ExtraHours


@dataclass(frozen=True, slots=True)
class Expansion:
    """The free hours of a horizon, as UTC instants on the hour."""

    horizon_start: datetime
    horizon_end: datetime
    hours: list[datetime]


def next_hour(now: datetime) -> datetime:
    """The first whole UTC hour at or after ``now``."""
    now = now.astimezone(UTC)
    floor = now.replace(minute=0, second=0, microsecond=0)
    return floor if floor == now else floor + timedelta(hours=1)


def expand(
    rules: list[WeeklyRule],
    time_zone: str,
    now: datetime,
    days: int = HORIZON_DAYS,
    exceptions: Sequence[DatedException] = (),
) -> Expansion:
    """Every UTC hour in ``[next hour, +days)`` that a rule makes free in ``time_zone``.

    Local wall-clock hours stay put across daylight-saving changes, so their UTC instant
    moves. A local hour that does not exist (the spring gap) is skipped; one that happens
    twice (the autumn overlap) counts once, at its first occurrence. Zones whose offset is
    not whole hours give local hours that are not UTC hours, and those are skipped.

    Dated exceptions win over the weekly rules: extra hours are added on their date, and
    every hour of a local date inside an away range is removed (extra hours included).
    """
    zone = ZoneInfo(time_zone)
    start = next_hour(now)
    end = start + timedelta(days=days)
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    away = [item for item in exceptions if isinstance(item, Away)]
    extras = [item for item in exceptions if isinstance(item, ExtraHours)]
    hours: set[datetime] = set()
    for offset in range((end - start).days + 3):
        day = first_day + timedelta(days=offset)
        if any(item.first_day <= day <= item.last_day for item in away):
            continue
        spans = [
            (rule.start_hour, rule.end_hour)
            for rule in rules
            if day.weekday() == rule.weekday.number
        ]
        spans += [(extra.start_hour, extra.end_hour) for extra in extras if extra.day == day]
        for first, last in spans:
            for hour in range(first, last):
                instant = _local_hour(day, hour, zone)
                if instant is not None and start <= instant < end:
                    hours.add(instant)
    return Expansion(start, end, sorted(hours))


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """A person's weekly rules in their zone with dated exceptions: free hours for any date.

    ``hour in weekly`` costs a zone conversion and a pass over the person's few rules and
    exceptions, whatever the date: a request 40 days or a year ahead costs what tomorrow
    costs, and nothing needs publishing again as time passes.
    """

    time_zone: str
    rules: tuple[WeeklyRule, ...] = ()
    away: tuple[Away, ...] = ()
    extra: tuple[ExtraHours, ...] = ()

    @property
    def exceptions(self) -> tuple[DatedException, ...]:
        """The away ranges and extra hours together."""
        return (*self.away, *self.extra)

    def __contains__(self, instant: object) -> bool:
        """Whether the whole UTC hour starting at ``instant`` is free (as ``expand`` says)."""
        if not isinstance(instant, datetime) or instant.tzinfo is None:
            return False
        if instant.minute or instant.second or instant.microsecond:
            return False
        local = instant.astimezone(ZoneInfo(self.time_zone))
        # The autumn overlap's second pass of an hour is not free (its first pass is), and a
        # zone whose offset is not whole hours has no local hour at a UTC hour.
        if local.fold or local.minute or local.second:
            return False
        day, hour = local.date(), local.hour
        if any(item.first_day <= day <= item.last_day for item in self.away):
            return False
        weekday = _BY_NUMBER[day.weekday()]
        for rule in self.rules:
            if rule.weekday == weekday and rule.start_hour <= hour < rule.end_hour:
                return True
        return any(
            item.day == day and item.start_hour <= hour < item.end_hour for item in self.extra
        )

    def expand(self, now: datetime, days: int = HORIZON_DAYS) -> Expansion:
        """The free hours of ``[next hour, +days)``."""
        return expand(list(self.rules), self.time_zone, now, days, self.exceptions)


def _local_hour(day: date, hour: int, zone: ZoneInfo) -> datetime | None:
    local = datetime.combine(day, time(hour), tzinfo=zone)
    instant = local.astimezone(UTC)
    # A wall time in the spring gap does not survive the round trip.
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    if instant.minute or instant.second:
        return None
    return instant
