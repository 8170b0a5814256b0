"""The simulated neighbourhood's plan and the figures folded from its occurrences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kith.simulate import diagnosis
from kith.simulate.metrics import Ledger, Occurrence
from kith.simulate.world import (
    Rule,
    day_zero_after,
    distance_km,
    had_eligible_helper,
    plan_world,
)

_DAY_ZERO = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday


def test_the_same_seed_plans_the_same_world_and_another_seed_another() -> None:
    first = plan_world(7, 12, _DAY_ZERO)

    assert plan_world(7, 12, _DAY_ZERO) == first
    assert plan_world(8, 12, _DAY_ZERO) != first


def test_homes_lie_on_both_sides_of_a_cell_edge_within_every_helpers_reach() -> None:
    world = plan_world(7, 12, _DAY_ZERO)

    assert len(world.neighbourhoods) == 2
    for cell in world.neighbourhoods:
        assert any(h.neighbourhood == cell for h in world.helpers)
        assert any(n.neighbourhood == cell for n in world.neighbours)
    for helper in world.helpers:
        for neighbour in world.neighbours:
            assert distance_km(helper.home, neighbour.home) <= helper.radius_km


def test_life_happens_during_the_run_and_needs_fall_inside_it() -> None:
    world = plan_world(7, 12, _DAY_ZERO)

    assert sum(h.arrives_day > 0 for h in world.helpers) == 2
    assert sum(h.leaves_day is not None for h in world.helpers) == 1
    assert sum(h.new_hours_day is not None for h in world.helpers) == 2
    assert world.concern_day == 42
    starts = [s for n in world.neighbours for need in n.needs for s in need.starts()]
    assert starts
    assert all(_DAY_ZERO < s < _DAY_ZERO + timedelta(weeks=12) for s in starts)
    assert any(need.occurrences > 1 for n in world.neighbours for need in n.needs)
    assert any(need.occurrences == 1 for n in world.neighbours for need in n.needs)


def test_an_occurrence_is_eligible_only_when_a_helper_offers_the_skill_at_that_hour() -> None:
    world = plan_world(7, 2, _DAY_ZERO)
    neighbour = world.neighbours[0]
    helper = next(h for h in world.helpers if h.arrives_day == 0 and h.new_hours_day is None)
    rule: Rule = helper.hours[0]
    start = _DAY_ZERO + timedelta(days=rule.weekday, hours=rule.start)  # London is UTC in January
    skill = helper.skills[0]

    assert had_eligible_helper(world, neighbour, skill, start, 1, suspended=set())
    others = {h.label for h in world.helpers if h is not helper}
    assert had_eligible_helper(world, neighbour, skill, start, 1, suspended=others)
    everyone = others | {helper.label}
    assert not had_eligible_helper(world, neighbour, skill, start, 1, suspended=everyone)
    sunday_night = _DAY_ZERO + timedelta(days=6, hours=23)
    assert not had_eligible_helper(world, neighbour, skill, sunday_night, 1, suspended=set())


def test_figures_count_each_occurrence_once_by_the_week_it_starts_in() -> None:
    ledger = Ledger(2)
    start = _DAY_ZERO + timedelta(days=1, hours=10)
    series = [
        Occurrence(f"r{i}", "s", i, "n", "shopping", start + timedelta(weeks=i), 1, i, True)
        for i in range(2)
    ]
    stranded = Occurrence("r9", None, 1, "n", "company", start, 1, 0, True, stranded=True)
    for occurrence in [*series, stranded]:
        occurrence.settled = True
        ledger.asked(occurrence)
    ledger.served(series[0], "helper-a", "b0")
    ledger.served(series[1], "helper-a", "b1")
    ledger.violation(1, "offer:x")
    ledger.violation(1, "offer:x")

    report = ledger.report(12.0)

    assert report["asked"] == 3
    assert report["served"] == 2
    assert report["served_by_regular"] == 1, "the second visit of the series, same helper"
    assert report["stranded"] == 1
    assert report["safeguarding_violations"] == 1, "one violation counted once"
    assert [w["asked"] for w in report["weeks"]] == [2, 1]
    assert report["served_share"] == round(2 / 3, 4)
    assert not report["targets"]["stranded"]["met"]
    assert report["targets"]["elapsed_s"]["met"]


def test_a_run_starts_on_the_next_monday_whatever_the_date() -> None:
    sunday_night = datetime(2027, 1, 3, 23, 59, tzinfo=UTC)
    monday_morning = datetime(2027, 1, 4, 0, 1, tzinfo=UTC)

    assert day_zero_after(sunday_night) == _DAY_ZERO
    assert day_zero_after(monday_morning) == _DAY_ZERO + timedelta(weeks=1)
    assert day_zero_after(_DAY_ZERO - timedelta(days=5)) == _DAY_ZERO


def test_each_eligible_occurrence_left_unserved_is_listed_with_each_helpers_story() -> None:
    world = plan_world(7, 12, _DAY_ZERO)
    first, second = world.helpers[0], world.helpers[1]
    cell = first.neighbourhood
    unserved = Occurrence(
        request_id="r1",
        series_id="s1",
        index=2,
        neighbour="n1",
        skill="shopping",
        starts_at=_DAY_ZERO + timedelta(days=8, hours=10),
        hours=1,
        week=1,
        eligible=True,
        settled=True,
        helper_cancelled=True,
        unserved_cause="helper_cancelled",
        eligible_helpers=(first.label, second.label),
    )
    served = Occurrence("r2", None, 0, "n1", "shopping", _DAY_ZERO, 1, 0, eligible=True)
    served.served_by = first.label
    verdicts = {
        "r1": diagnosis.Verdict(
            frozenset(), {"id-2": "is already booked for a requested hour"}, None
        )
    }
    no_mornings: list[tuple[datetime, int]] = []
    evidence = (
        [unserved, served],
        verdicts,
        {first.label: "id-1", second.label: "id-2"},
        {"r1": {first.label: "let it lapse"}},
        {plan.label: plan for plan in world.helpers},
        {"n1": cell},
        no_mornings,
    )

    [item] = diagnosis.unserved(*evidence)

    assert item["request_id"] == "r1"
    assert item["week"] == 2
    assert item["helper_cancelled"] is True
    assert item["helpers"] == {
        first.label: "offered it, and let it lapse",
        second.label: "passed over: is already booked for a requested hour",
    }
    assert diagnosis.why_not_served(*evidence) == {
        "offered it, and let it lapse": 1,
        "passed over: is already booked for a requested hour": 1,
    }
