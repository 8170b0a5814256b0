"""Figures that compare strategies over the same week."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from kith.matching_simulation.replay import Outcome
from kith.matching_simulation.world import World


@dataclass(frozen=True, slots=True)
class Figures:
    """One strategy's week.

    Attributes:
        served: Requests booked whose helper turned up.
        travel_km: One-way travel over the served visits.
        continuity: Share of recurring visits whose regular was free that went to the regular
            (``None`` when no regular was free).
        hours_gini: Gini coefficient of hours served across every helper (0 is even).
        median_match_s: Median simulated time from posting to booking.
    """

    served: int
    travel_km: float
    continuity: float | None
    hours_gini: float
    median_match_s: float | None


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient of non-negative values: 0 when equal, towards 1 when one has all."""
    ordered = sorted(values)
    count, total = len(ordered), sum(ordered)
    if count == 0 or total == 0:
        return 0.0
    weighted = sum((rank + 1) * value for rank, value in enumerate(ordered))
    return (2 * weighted) / (count * total) - (count + 1) / count


def figures(world: World, outcome: Outcome) -> Figures:
    """Measure ``outcome`` over ``world``; no-shows are not served."""
    served = [b for b in outcome.bookings.values() if world.shows_up(b.need, b.helper_id)]
    hours = {h.profile.person_id: 0.0 for h in world.helpers}
    for booking in served:
        hours[booking.helper_id] += booking.need.request.hours
    free = outcome.regular_free
    kept = sum(
        1
        for index in free
        if index in outcome.bookings
        and outcome.bookings[index].helper_id == outcome.bookings[index].need.regular_id
    )
    waits = [(b.booked_at - b.need.posted_at).total_seconds() for b in outcome.bookings.values()]
    return Figures(
        served=len(served),
        travel_km=sum(world.travel_km(b.need, b.helper_id) for b in served),
        continuity=kept / len(free) if free else None,
        hours_gini=gini(list(hours.values())),
        median_match_s=statistics.median(waits) if waits else None,
    )


def ratio(value: float, optimum: float) -> float:
    """``value / optimum``, 1.0 when both are nothing."""
    if optimum == 0:
        return 1.0 if value == 0 else float("inf")
    return value / optimum
