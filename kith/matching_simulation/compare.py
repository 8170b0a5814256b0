"""One synthetic week, three strategies, side by side."""

from __future__ import annotations

from dataclasses import dataclass

from kith.matching_simulation.metrics import Figures, figures, ratio
from kith.matching_simulation.optimum import solve_optimum
from kith.matching_simulation.replay import replay_greedy, replay_matching
from kith.matching_simulation.world import Shape, build_world
from services.matching.domain import Policy


@dataclass(frozen=True, slots=True)
class Comparison:
    """The week as matching, the greedy baseline and the offline optimum served it."""

    requests: int
    matching: Figures
    greedy: Figures
    optimum: Figures

    def summary(self) -> dict[str, float | None]:
        """The headline figures, as ``kith bench matching --json`` prints them."""
        best = self.optimum
        return {
            "served_vs_optimum": ratio(self.matching.served, best.served),
            "travel_vs_optimum": ratio(self.matching.travel_km, best.travel_km),
            "continuity": self.matching.continuity,
            "hours_gini": self.matching.hours_gini,
            "median_match_s": self.matching.median_match_s,
            "greedy_served_vs_optimum": ratio(self.greedy.served, best.served),
            "greedy_travel_vs_optimum": ratio(self.greedy.travel_km, best.travel_km),
            # What the ratios are of: the offline optimum's own week.
            "optimum_served": best.served,
            "optimum_travel_km": best.travel_km,
            "served": self.matching.served,
            "travel_km": self.matching.travel_km,
        }


def compare(shape: Shape, policy: Policy) -> Comparison:
    """Draw the week from ``shape`` and measure every strategy over it (needs scipy)."""
    world = build_world(shape)
    return Comparison(
        requests=len(world.needs),
        matching=figures(world, replay_matching(world, policy)),
        greedy=figures(world, replay_greedy(world)),
        optimum=figures(world, solve_optimum(world)),
    )
