"""The matching simulator's pieces on instances small enough to solve by hand."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import h3
import pytest
from typer.testing import CliRunner

from kith.matching_simulation.metrics import figures, gini
from kith.matching_simulation.replay import replay_greedy, replay_matching
from kith.matching_simulation.throughput import build_city, timed_matching
from kith.matching_simulation.world import (
    WEEK_START,
    Need,
    Shape,
    SimHelper,
    World,
    build_world,
)
from services.matching.domain import HelperProfile, Policy
from services.matching.state import HelperState
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.geo import cell_of, distance_km, neighbourhood_of_cell

POLICY = Policy(regular_hold_s=600, offer_ttl_s=900, cascade_width=3, cascade_rounds=4)
SLOT = WEEK_START + timedelta(days=1, hours=10)


def _cell(km_north: float) -> str:
    return cell_of(51.5 + km_north / 111.0, -0.1)


def _helper(index: int, km_north: float, radius_km: float) -> SimHelper:
    profile = HelperProfile(
        person_id=uuid.UUID(int=index + 1),
        display_name=f"Helper {index}",
        cell=_cell(km_north),
        skills=frozenset({Skill.SHOPPING}),
        travel_radius_km=radius_km,
        weekly_hour_cap=10,
    )
    return SimHelper(index, profile, {SLOT}, newcomer=False)


def _need(index: int, km_north: float) -> Need:
    request = HelpRequested(
        request_id=uuid.UUID(int=100 + index),
        series_id=uuid.UUID(int=200 + index),
        occurrence=1,
        occurrences=1,
        neighbour_id=uuid.UUID(int=300 + index),
        neighbourhood=neighbourhood_of_cell(_cell(km_north)),
        cell=_cell(km_north),
        skill=Skill.SHOPPING,
        starts_at=SLOT,
        hours=1,
    )
    return Need(index, request, SLOT - timedelta(hours=24 - index))


def _crossed() -> World:
    """Two requests at one hour. A lives between them and reaches both; B reaches only the
    first. Nearest-first gives A the first request and leaves the second unserved; the
    optimum sends B to the first and A to the second."""
    shape = Shape(decline=0.0, regular_decline=0.0, no_show=0.0)
    helpers = [_helper(0, 0.5, 5.0), _helper(1, -1.0, 1.2)]
    world = World(shape, helpers, [_need(0, 0.0), _need(1, 2.0)])
    world.index()
    return world


def test_gini_is_zero_when_even_and_grows_when_one_has_all() -> None:
    assert gini([2, 2, 2, 2]) == 0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([]) == 0


def test_greedy_takes_the_nearest_and_strands_the_second_request() -> None:
    world = _crossed()
    outcome = replay_greedy(world)
    assert {i: b.helper_id for i, b in outcome.bookings.items()} == {0: uuid.UUID(int=1)}
    assert figures(world, outcome).served == 1


def test_the_optimum_serves_both_with_the_least_travel() -> None:
    pytest.importorskip("scipy")
    from kith.matching_simulation.optimum import solve_optimum

    world = _crossed()
    outcome = solve_optimum(world)
    assert {i: b.helper_id for i, b in outcome.bookings.items()} == {
        0: uuid.UUID(int=2),
        1: uuid.UUID(int=1),
    }
    measured = figures(world, outcome)
    assert measured.served == 2
    assert measured.travel_km == pytest.approx(1.0 + 1.5, abs=0.3)


def test_the_replay_runs_the_real_matcher_and_books_each_request_once() -> None:
    world = _crossed()
    outcome = replay_matching(world, POLICY)
    helpers = [b.helper_id for b in outcome.bookings.values()]
    assert len(helpers) == len(set(helpers)) >= 1  # nobody is booked twice in one hour
    assert all(b.booked_at >= b.need.posted_at for b in outcome.bookings.values())


def test_a_drawn_week_is_the_same_for_the_same_seed() -> None:
    first, second = (
        build_world(Shape(neighbours=20, helpers=8)),
        build_world(Shape(neighbours=20, helpers=8)),
    )
    assert [n.request for n in first.needs] == [n.request for n in second.needs]
    recurring = [n for n in first.needs if n.regular_id is not None]
    assert recurring
    assert all(first.relationship(n.regular_id, n.request.neighbour_id) for n in recurring)  # type: ignore[arg-type]


def test_a_drawn_week_spreads_over_cell_edges_and_is_served_across_them() -> None:
    world = build_world(Shape(neighbours=60, helpers=20, seed=3))
    asked_in = {n.request.neighbourhood for n in world.needs}
    assert len(asked_in) > 1
    outcome = replay_matching(world, POLICY)
    across = [
        b
        for b in outcome.bookings.values()
        if neighbourhood_of_cell(world.by_id[b.helper_id].profile.cell)
        != b.need.request.neighbourhood
    ]
    assert across, "some neighbours are served by a helper from the next cell"


def test_a_compact_city_hands_matching_real_helper_state_in_the_right_place() -> None:
    city = build_city(1000, density=50)
    state = city.state()
    assert len(city.neighbourhoods) == 20
    neighbourhood = city.neighbourhoods[3]
    roster = state.roster_of(neighbourhood)
    # Its own 50, and those of the neighbourhoods around whose radius reaches its streets.
    own = [p for p in roster if (p.int - 1) // city.density == 3]
    assert len(own) == 50
    assert len(roster) > 50
    for person_id in (own[0], roster[-1]):
        helper = state.helper(neighbourhood, person_id)
        assert isinstance(helper, HelperState)
        assert helper.profile is not None
        assert helper.profile.person_id == person_id
        home = helper.profile.cell
        nearest = min(distance_km(s, home) for s in h3.cell_to_children(neighbourhood, 9))
        assert nearest <= helper.profile.travel_radius_km
    first = state.helper(neighbourhood, own[0]).profile
    assert first is not None
    assert h3.cell_to_parent(first.cell, 7) == neighbourhood
    assert state.standing_of(roster[0]) is not None
    assert min(timed_matching(city, POLICY, requests=20)) > 0


def test_the_benchmark_prints_one_json_object_with_every_figure() -> None:
    pytest.importorskip("scipy")
    from kith.bench import app

    result = CliRunner().invoke(
        app,
        [
            "matching",
            "--neighbours=30",
            "--helpers=10",
            "--sizes=500,1000",
            "--requests=10",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    # Nothing else on stdout (no log line): a script pipes it straight into a JSON parser.
    figures_ = json.loads(result.stdout)
    for key in (
        "served_vs_optimum",
        "travel_vs_optimum",
        "continuity",
        "hours_gini",
        "greedy_served_vs_optimum",
        "greedy_travel_vs_optimum",
        "optimum_served",
        "optimum_travel_km",
        "matched_per_s",
        "matched_per_cpu_s",
        "smallest_vs_largest",
    ):
        assert key in figures_
    assert set(figures_["matched_per_s"]) == {"500", "1000"}
    assert set(figures_["matched_per_cpu_s"]) == {"500", "1000"}
    assert all(rate > 0 for rate in figures_["matched_per_cpu_s"].values())
    assert figures_["smallest_vs_largest"] > 0


def test_requests_are_timed_where_every_home_within_reach_is_in_the_city() -> None:
    city = build_city(10_000, density=50)
    inland = city.inland()
    edge = [n for n in city.neighbourhoods if n not in set(inland)]
    assert (len(inland), len(edge)) == (107, 93)
    # A disc: the centre is inland, and so is every neighbourhood two rings from it.
    assert city.neighbourhoods[0] in inland
    assert all(n in inland for n in h3.grid_disk(city.neighbourhoods[0], 2))
    rosters = [len(city.filed_in(n)) for n in (inland[0], inland[-1], edge[-1])]
    assert rosters[2] < min(rosters[:2]), "the edge weighs fewer helpers than the inland"
