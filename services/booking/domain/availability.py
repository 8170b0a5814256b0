"""Weekly availability rules in local time, expanded to whole UTC hours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

#: How far ahead availability is expanded.
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
        return list(Weekday).index(self)


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


def _local_hour(day: date, hour: int, zone: ZoneInfo) -> datetime | None:
    local = datetime.combine(day, time(hour), tzinfo=zone)
    instant = local.astimezone(UTC)
    # A wall time in the spring gap does not survive the round trip.
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    if instant.minute or instant.second:
        return None
    return instant
