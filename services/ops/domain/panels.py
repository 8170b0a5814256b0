"""The console's panels, computed from the ledger: who is waiting, open concerns, live figures.

Pure functions of the ledger and the time, so that they can be tested without a broker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from services.ops.domain.ledger import Ledger, OpenConcern

#: The figures look back this far (requests per hour: one day).
WEEK = timedelta(days=7)
CONTINUITY_WINDOW = timedelta(days=28)
HOURS_IN_CHART = 24
#: Buckets of the helpers' hours chart: (label, lowest, highest) hours in the last week.
HOUR_BUCKETS = (
    ("0", 0, 0),
    ("1-2", 1, 2),
    ("3-5", 3, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21+", 21, 10**6),
)


@dataclass(frozen=True, slots=True)
class Waiting:
    """One person waiting for help that nobody has taken yet.

    Attributes:
        tried: Each helper offered the visit, and whether they declined it.
        status: ``escalated`` once matching gave up (an operator should step in), else
            ``matching`` while offers are still out.
    """

    request_id: uuid.UUID
    neighbour_id: uuid.UUID | None
    neighbourhood: str
    skill: str
    starts_at: datetime
    hours: int
    waiting_s: float
    rounds: int
    tried: list[tuple[uuid.UUID, bool]]
    status: str
    reason: str | None


def waiting(ledger: Ledger, now: datetime, *, neighbourhood: str | None = None) -> list[Waiting]:
    """Requests neither booked nor cancelled whose visit has not ended yet, all of them (in
    ``neighbourhood`` only, if given).

    Escalated ones first, then the longest waiting.
    """
    rows = []
    for track in ledger.requests.values():
        ends = track.starts_at + timedelta(hours=track.hours)
        if track.booked_at is not None or track.cancelled or ends <= now:
            continue
        if neighbourhood is not None and track.neighbourhood != neighbourhood:
            continue
        rows.append(
            Waiting(
                request_id=track.request_id,
                neighbour_id=track.neighbour_id,
                neighbourhood=track.neighbourhood,
                skill=track.skill,
                starts_at=track.starts_at,
                hours=track.hours,
                waiting_s=max(0.0, (now - track.first_seen).total_seconds()),
                rounds=track.rounds,
                tried=[(helper, helper in track.declined) for helper in track.offered],
                status="escalated" if track.unmatched_at is not None else "matching",
                reason=track.unmatched_reason,
            )
        )
    rows.sort(key=lambda row: (row.status != "escalated", -row.waiting_s))
    return rows


def open_concerns(ledger: Ledger) -> list[OpenConcern]:
    """Concerns no operator has resolved, the oldest first."""
    return sorted(ledger.concerns.values(), key=lambda concern: concern.raised_at)


@dataclass(frozen=True, slots=True)
class Spread:
    """How evenly booked hours fall on helpers over the last week.

    Attributes:
        helpers: Helpers counted (everyone offering a skill, and everyone booked).
        p10: A tenth of helpers had at most this many hours.
        p50: The median helper's hours.
        p90: Nine tenths of helpers had at most this many hours.
        most: The busiest helper's hours.
        gini: 0 when everyone had the same hours, towards 1 when one helper had them all;
            ``None`` before any hours were booked.
        histogram: ``(label, helpers)`` per bucket of ``HOUR_BUCKETS``.
    """

    helpers: int
    p10: float
    p50: float
    p90: float
    most: int
    gini: float | None
    histogram: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Figures:
    """The console's live figures. A share or median is ``None`` until there is data.

    Attributes:
        requests_per_hour: Requests made in each of the last 24 hours, oldest first; the
            last is the hour now under way.
        share_matched: Of last week's requests with an outcome, the share booked.
        median_time_to_match_s: From request to booking, over last week's bookings.
        continuity: Of the last four weeks' recurring visits (a series already under way, or
            a neighbour with a regular helper), the share booked with the regular helper.
    """

    requests_per_hour: list[int]
    share_matched: float | None
    matched: int
    unmatched: int
    median_time_to_match_s: float | None
    continuity: float | None
    recurring_visits: int
    with_regular: int
    hours: Spread
    waiting: int
    escalated: int
    open_concerns: int


def figures(ledger: Ledger, now: datetime) -> Figures:
    """Every figure at once, as of ``now``."""
    week_ago = now - WEEK
    tracks = list(ledger.requests.values())
    matched = [t for t in tracks if t.booked_at is not None and t.first_seen >= week_ago]
    unmatched = [
        t for t in tracks if t.booked_at is None and t.unmatched_at and t.first_seen >= week_ago
    ]
    to_match = [
        (t.booked_at - t.requested_at).total_seconds()
        for t in matched
        if t.booked_at is not None and t.requested_at is not None
    ]
    recent = [b for b in ledger.bookings.values() if b.booked_at >= now - CONTINUITY_WINDOW]
    recurring = [b for b in recent if b.recurring]
    kept = sum(1 for b in recurring if b.with_regular)
    waiting_now = waiting(ledger, now)
    return Figures(
        requests_per_hour=_per_hour(
            [t.requested_at for t in tracks if t.requested_at is not None], now
        ),
        share_matched=_share(len(matched), len(matched) + len(unmatched)),
        matched=len(matched),
        unmatched=len(unmatched),
        median_time_to_match_s=median(to_match) if to_match else None,
        continuity=_share(kept, len(recurring)),
        recurring_visits=len(recurring),
        with_regular=kept,
        hours=_spread(ledger, week_ago),
        waiting=len(waiting_now),
        escalated=sum(1 for row in waiting_now if row.status == "escalated"),
        open_concerns=len(ledger.concerns),
    )


def _per_hour(times: list[datetime], now: datetime) -> list[int]:
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    first = this_hour - timedelta(hours=HOURS_IN_CHART - 1)
    counts = [0] * HOURS_IN_CHART
    for at in times:
        if first <= at <= now:
            counts[int((at - first).total_seconds() // 3600)] += 1
    return counts


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _spread(ledger: Ledger, since: datetime) -> Spread:
    hours: dict[uuid.UUID, int] = dict.fromkeys(ledger.helpers, 0)
    for booked in ledger.bookings.values():
        if booked.booked_at >= since and not booked.cancelled:
            hours[booked.helper_id] = hours.get(booked.helper_id, 0) + booked.hours
    values = sorted(hours.values())
    return Spread(
        helpers=len(values),
        p10=percentile(values, 0.1),
        p50=percentile(values, 0.5),
        p90=percentile(values, 0.9),
        most=values[-1] if values else 0,
        gini=gini(values),
        histogram=[
            (label, sum(1 for v in values if low <= v <= high)) for label, low, high in HOUR_BUCKETS
        ],
    )


def percentile(ordered: list[int], fraction: float) -> float:
    """The ``fraction`` quantile of sorted values, interpolated; 0 for no values."""
    if not ordered:
        return 0.0
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def gini(ordered: list[int]) -> float | None:
    """The Gini coefficient of sorted, non-negative values; ``None`` when they sum to 0."""
    total = sum(ordered)
    if not ordered or total == 0:
        return None
    n = len(ordered)
    weighted = sum(rank * value for rank, value in enumerate(ordered, start=1))
    return (2 * weighted) / (n * total) - (n + 1) / n
