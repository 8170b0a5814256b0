"""A weekly or fortnightly request as one commitment: when its occurrences fall, which of
them to make now, and whether its regular helper is free for one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.availability import Away, DatedException, ExtraHours, WeeklyRule
from services.booking.domain.visits import Repeat

_STEP = {Repeat.WEEK: timedelta(weeks=1), Repeat.FORTNIGHT: timedelta(weeks=2)}
#: However long a series is asked for with an end date, at most this many occurrences (ten
#: years of weeks): an end far off is as good as none, and an open-ended series has no cap.
MAX_COUNTED_OCCURRENCES = 520


@dataclass(frozen=True, slots=True)
class SeriesRule:
    """When a series' occurrences start.

    Attributes:
        first_starts_at: The first occurrence's start (UTC).
        repeat: Weekly or fortnightly.
        time_zone: The neighbour's zone: every occurrence keeps the first one's wall-clock
            time there, across daylight-saving changes.
        occurrences: How many there are, or ``None`` while the series runs until cancelled.
    """

    first_starts_at: datetime
    repeat: Repeat
    time_zone: str
    occurrences: int | None = None

    def start_of(self, occurrence: int) -> datetime:
        """The UTC start of occurrence ``occurrence`` (1 is the first).

        A wall time in a spring gap is taken at the offset before the gap (``fold=0``).
        """
        zone = ZoneInfo(self.time_zone)
        wall = self.first_starts_at.astimezone(zone).replace(tzinfo=None)
        return (wall + _STEP[self.repeat] * (occurrence - 1)).replace(tzinfo=zone).astimezone(UTC)

    def exists(self, occurrence: int) -> bool:
        """Whether the series has an occurrence of this number."""
        return occurrence >= 1 and (self.occurrences is None or occurrence <= self.occurrences)

    def due(self, made_until: int, horizon_end: datetime) -> list[tuple[int, datetime]]:
        """The occurrences after ``made_until`` that start before ``horizon_end``, in order."""
        due: list[tuple[int, datetime]] = []
        occurrence = made_until + 1
        while self.exists(occurrence):
            start = self.start_of(occurrence)
            if start >= horizon_end:
                break
            due.append((occurrence, start))
            occurrence += 1
        return due

    def next_start(self, made_until: int) -> datetime | None:
        """When the first occurrence not yet made starts; ``None`` once all are made."""
        following = made_until + 1
        return self.start_of(following) if self.exists(following) else None


def count_until(rule: SeriesRule, last_day_starts_before: datetime) -> int:
    """How many occurrences start before a moment (an end the neighbour chose)."""
    count = 0
    while count < MAX_COUNTED_OCCURRENCES and rule.start_of(count + 1) < last_day_starts_before:
        count += 1
    return count


def offers_hours(
    rules: Sequence[WeeklyRule],
    exceptions: Sequence[DatedException],
    time_zone: str,
    hours: Sequence[datetime],
) -> bool:
    """Whether a person's weekly rules and dated exceptions make every one of ``hours`` free.

    Worked out from the rules themselves, not from hours expanded ahead, so it holds however
    far ahead the hours are.
    """
    zone = ZoneInfo(time_zone)
    for hour in hours:
        local = hour.astimezone(zone)
        day = local.date()
        if any(isinstance(e, Away) and e.first_day <= day <= e.last_day for e in exceptions):
            return False
        by_rule = any(
            rule.weekday.number == day.weekday() and rule.start_hour <= local.hour < rule.end_hour
            for rule in rules
        )
        by_extra = any(
            isinstance(e, ExtraHours) and e.day == day and e.start_hour <= local.hour < e.end_hour
            for e in exceptions
        )
        if not (by_rule or by_extra):
            return False
    return True
