"""Weekly rules in local time expand to UTC hours that follow daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.booking.domain.availability import Weekday, WeeklyRule, expand, next_hour

LONDON = "Europe/London"


def test_a_tuesday_at_ten_stays_ten_local_across_the_october_change() -> None:
    # British Summer Time ends on Sunday 25 October 2026.
    now = datetime(2026, 10, 12, 9, 30, tzinfo=UTC)
    result = expand([WeeklyRule(Weekday.TUESDAY, 10, 11)], LONDON, now)

    assert result.hours == [
        datetime(2026, 10, 13, 9, tzinfo=UTC),
        datetime(2026, 10, 20, 9, tzinfo=UTC),
        datetime(2026, 10, 27, 10, tzinfo=UTC),
        datetime(2026, 11, 3, 10, tzinfo=UTC),
    ]
    assert {hour.astimezone(ZoneInfo(LONDON)).hour for hour in result.hours} == {10}
    assert result.horizon_start == datetime(2026, 10, 12, 10, tzinfo=UTC)
    assert (result.horizon_end - result.horizon_start).days == 28


def test_the_missing_spring_hour_is_skipped_and_the_rest_kept() -> None:
    # Clocks go from 01:00 to 02:00 on Sunday 29 March 2026: 01:00 local never happens.
    now = datetime(2026, 3, 23, tzinfo=UTC)
    result = expand([WeeklyRule(Weekday.SUNDAY, 0, 3)], LONDON, now)
    local = [hour.astimezone(ZoneInfo(LONDON)) for hour in result.hours]
    march_29 = [moment.hour for moment in local if moment.day == 29 and moment.month == 3]
    assert march_29 == [0, 2]
    assert all(hour.minute == 0 for hour in result.hours)


def test_hours_are_unique_sorted_and_inside_the_horizon() -> None:
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    rules = [WeeklyRule(Weekday.MONDAY, 8, 18), WeeklyRule(Weekday.MONDAY, 12, 20)]
    result = expand(rules, "Europe/Paris", now)
    assert result.hours == sorted(set(result.hours))
    assert all(result.horizon_start <= hour < result.horizon_end for hour in result.hours)
    # Mondays 08:00-20:00 Paris: 13:00-20:00 of the first (7), three whole ones (36), and
    # 08:00-13:00 of the fifth, which ends the 28 days (5).
    assert len(result.hours) == 7 + 36 + 5


def test_a_rule_must_start_before_it_ends() -> None:
    with pytest.raises(ValueError, match="start must be before end"):
        WeeklyRule(Weekday.MONDAY, 12, 12)


def test_next_hour_rounds_up_only_off_the_hour() -> None:
    on = datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert next_hour(on) == on
    assert next_hour(datetime(2026, 1, 1, 10, 0, 1, tzinfo=UTC)) == datetime(
        2026, 1, 1, 11, tzinfo=UTC
    )
