"""The neighbourhoods map: per neighbourhood cell, the people waiting for help against the
hours helpers offer there each week. Pure: the boundaries are drawn by the caller."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    """One neighbourhood on the map.

    Attributes:
        cell: The neighbourhood's H3 cell.
        waiting: Requests in it nobody has taken yet.
        free_hours: Hours a week its helpers offer (their weekly rules).
        pressure: ``waiting`` against ``free_hours``, 0 (calm) to 1 (nobody to help):
            each waiting request wants about two hours of a week's free time.
    """

    cell: str
    waiting: int
    free_hours: int
    pressure: float


#: About how many of a week's free helper hours one waiting request needs to be taken.
HOURS_PER_REQUEST = 2


def places(waiting: Iterable[str], hours: Iterable[tuple[str, int]]) -> list[Place]:
    """Every neighbourhood with someone waiting or a helper's hours, the most pressed first;
    ``waiting`` holds each waiting request's cell, ``hours`` each helper's cell and hours."""
    asked = Counter(waiting)
    offered: Counter[str] = Counter()
    for cell, free in hours:
        offered[cell] += free
    found = []
    for cell in set(asked) | {cell for cell, free in offered.items() if free > 0}:
        need = asked[cell] * HOURS_PER_REQUEST
        pressure = 0.0 if need == 0 else need / (need + offered[cell])
        found.append(Place(cell, asked[cell], offered[cell], round(pressure, 3)))
    found.sort(key=lambda place: (-place.pressure, -place.waiting, place.cell))
    return found
