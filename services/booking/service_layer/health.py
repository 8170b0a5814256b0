"""The relationship-health panel: what operators should look at in how visits are going.

Pairs whose visits stopped, visits that did not go as agreed, repeated late cancellations,
helpers booked past their weekly cap, and neighbours who used to have visits and have had
none for a month. Each row names its people; nothing here is a judgement, only a cue.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from services.booking.service_layer.ports import UnitOfWork

#: A pair or a neighbour with no visit for this long has gone quiet.
QUIET = timedelta(days=28)
#: How far back check-ins and late cancellations are read.
RECENT = timedelta(days=28)
#: Late cancellations in ``RECENT`` that make a pattern.
LATE_PATTERN = 2
#: How many rows each list shows at most; the answer names the lists that had more.
SHOWN = 100


def week_start(now: datetime) -> datetime:
    """The Monday 00:00 UTC of ``now``'s week (helpers' caps are per week)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


async def relationship_health(
    uow: UnitOfWork, now: datetime, *, shown: int = SHOWN
) -> dict[str, Any]:
    """The panel's five lists, each row with the names of its people.

    Each list holds its first ``shown`` rows; ``more_than_shown`` names those that had more,
    so that an operator is not told a busy list's length is the cut.
    """
    # One row past the cut says whether there are more, without counting them all.
    past = shown + 1
    async with uow.read() as repo:
        found = {
            "pairs_stopped": await repo.pairs_stopped(now, QUIET, past),
            "not_as_agreed": await repo.not_as_agreed(now, RECENT, past),
            "late_cancellations": await repo.late_cancellers(now, RECENT, LATE_PATTERN, past),
            "over_weekly_cap": await repo.over_weekly_cap(week_start(now), past),
            "neighbours_gone_quiet": await repo.neighbours_gone_quiet(now, QUIET, past),
        }
        more = [key for key, rows in found.items() if len(rows) > shown]
        found = {key: rows[:shown] for key, rows in found.items()}
        ids: set[uuid.UUID] = {
            value
            for rows in found.values()
            for row in rows
            for key, value in row.items()
            if key.endswith("_id") and key != "booking_id" and isinstance(value, uuid.UUID)
        }
        names = await repo.display_names(sorted(ids))
    for rows in found.values():
        for row in rows:
            for key in [k for k in row if k.endswith("_id") and k != "booking_id"]:
                row[key.removesuffix("_id") + "_name"] = names.get(row[key])
    return {**found, "more_than_shown": more, "shown_at_most": shown}
