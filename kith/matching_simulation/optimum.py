"""The offline optimum of a week: what a planner who knew every request and answer could do.

Model (a mixed-integer programme, solved with scipy's HiGHS ``milp``):

* one binary ``x[r, h]`` for each request ``r`` and helper ``h`` who may be offered it (every
  eligibility rule of matching with nothing booked yet: skill, vetting, free hours, radius,
  not the neighbour, a matchable pair, the cap) and who would say yes to it;
* each request is served at most once: ``sum_h x[r, h] <= 1``;
* each helper serves at most one request in each hour slot:
  ``sum_{r covering hour t} x[r, h] <= 1`` for every helper ``h`` and hour ``t``;
* each helper stays within their weekly cap: ``sum_r hours_r * x[r, h] <= cap_h``;
* objective, lexicographic: serve as many requests as possible, then travel as little as
  possible — ``minimise sum (travel_km[r, h] - M) * x[r, h]`` with ``M`` larger than the
  travel of any whole plan, so one more request served always outweighs any saving in travel.

The planner knows who would decline (the same draws the replays meet) but not who will fail
to turn up: no-shows are applied to its plan afterwards, as to every strategy's.

scipy is imported inside ``solve_optimum`` so the rest of the project never needs it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from kith.matching_simulation.replay import Booking, Outcome
from kith.matching_simulation.world import World
from services.matching.domain import is_eligible
from services.matching.domain.model import hours_of


def feasible_pairs(world: World) -> list[tuple[int, uuid.UUID, float]]:
    """Every (request index, helper, travel km) the planner may choose from."""
    pairs: list[tuple[int, uuid.UUID, float]] = []
    for need in world.needs:
        for helper in world.helpers:
            helper_id = helper.profile.person_id
            if is_eligible(world.view(helper, need.request), need.request) and world.accepts(
                need, helper_id
            ):
                pairs.append((need.index, helper_id, world.travel_km(need, helper_id)))
    return pairs


def solve_optimum(world: World) -> Outcome:
    """The plan that serves the most requests, and among those travels least."""
    import numpy as np  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from scipy.sparse import coo_matrix  # type: ignore[import-untyped,import-not-found,unused-ignore]

    pairs = feasible_pairs(world)
    outcome = Outcome()
    if not pairs:
        return outcome
    needs = {n.index: n for n in world.needs}
    big = 1.0 + sum(max(km for _, _, km in pairs) for _ in needs)
    cost = np.array([km - big for _, _, km in pairs])
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    upper: list[float] = []

    def constrain(members: list[tuple[int, float]], bound: float) -> None:
        row = len(upper)
        for column, weight in members:
            rows.append(row)
            cols.append(column)
            values.append(weight)
        upper.append(bound)

    by_request: dict[int, list[tuple[int, float]]] = defaultdict(list)
    by_slot: dict[tuple[uuid.UUID, datetime], list[tuple[int, float]]] = defaultdict(list)
    by_helper: dict[uuid.UUID, list[tuple[int, float]]] = defaultdict(list)
    for column, (index, helper_id, _) in enumerate(pairs):
        request = needs[index].request
        by_request[index].append((column, 1.0))
        for hour in hours_of(request.starts_at, request.hours):
            by_slot[(helper_id, hour)].append((column, 1.0))
        by_helper[helper_id].append((column, float(request.hours)))
    for members in by_request.values():
        constrain(members, 1.0)
    for members in by_slot.values():
        if len(members) > 1:
            constrain(members, 1.0)
    for helper_id, members in by_helper.items():
        constrain(members, float(world.by_id[helper_id].profile.weekly_hour_cap))
    matrix = coo_matrix((values, (rows, cols)), shape=(len(upper), len(pairs))).tocsr()
    result = milp(
        cost,
        constraints=LinearConstraint(matrix, -np.inf, np.array(upper)),
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
    )
    if result.x is None:
        raise RuntimeError(f"the optimum could not be solved: {result.message}")
    for column, chosen in enumerate(result.x):
        if chosen > 0.5:
            index, helper_id, _ = pairs[column]
            need = needs[index]
            outcome.bookings[index] = Booking(need, helper_id, need.posted_at)
    return outcome
