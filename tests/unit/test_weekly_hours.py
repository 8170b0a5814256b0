"""Weekly hours answer for any date, and agree hour for hour with their expansion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.weekly_hours import Away, ExtraHours, Weekday, WeeklyHours, WeeklyRule

LONDON = "Europe/London"
TUESDAY_TEN = WeeklyHours(LONDON, rules=(WeeklyRule(Weekday.TUESDAY, 10, 12),))


def test_a_tuesday_at_ten_local_is_free_a_year_and_more_ahead_across_clock_changes() -> None:
    first = datetime(2027, 1, 5, 10, tzinfo=ZoneInfo(LONDON))  # a Tuesday, GMT
    for week in range(80):
        start = (first + timedelta(weeks=week)).astimezone(UTC)
        assert start in TUESDAY_TEN, start
        assert start + timedelta(hours=1) in TUESDAY_TEN
        assert start + timedelta(hours=2) not in TUESDAY_TEN
        assert start - timedelta(hours=1) not in TUESDAY_TEN


@pytest.mark.parametrize("time_zone", [LONDON, "America/New_York", "Asia/Kolkata", "UTC"])
def test_membership_agrees_with_the_expansion_hour_for_hour(time_zone: str) -> None:
    weekly = WeeklyHours(
        time_zone,
        rules=(
            WeeklyRule(Weekday.SUNDAY, 0, 3),
            WeeklyRule(Weekday.MONDAY, 9, 17),
            WeeklyRule(Weekday.SATURDAY, 20, 24),
        ),
        away=(Away(date(2026, 11, 2), date(2026, 11, 3)),),
        extra=(ExtraHours(date(2026, 10, 28), 13, 15), ExtraHours(date(2026, 11, 3), 8, 9)),
    )
    # Both of 2026's clock changes in Europe and America fall inside these spans.
    for now in (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC)):
        expansion = weekly.expand(now, days=40)
        listed = set(expansion.hours)
        hour = expansion.horizon_start
        while hour < expansion.horizon_end:
            assert (hour in weekly) == (hour in listed), hour
            hour += timedelta(hours=1)


def test_an_hour_not_on_the_hour_or_without_a_zone_is_never_free() -> None:
    start = datetime(2027, 1, 5, 10, tzinfo=UTC)
    assert start in TUESDAY_TEN
    assert start.replace(minute=30) not in TUESDAY_TEN
    assert start.replace(tzinfo=None) not in TUESDAY_TEN
