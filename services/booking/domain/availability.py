"""Weekly availability rules in local time (the rules live in ``shared.weekly_hours``, which
matching reads too, so that both services agree on which hours a rule makes free)."""

from shared.weekly_hours import (
    HORIZON_DAYS,
    Away,
    DatedException,
    Expansion,
    ExtraHours,
    Weekday,
    WeeklyHours,
    WeeklyRule,
    expand,
    next_hour,
)

__all__ = [
    "HORIZON_DAYS",
    "Away",
    "DatedException",
    "Expansion",
    "ExtraHours",
    "Weekday",
    "WeeklyHours",
    "WeeklyRule",
    "expand",
    "next_hour",
]
