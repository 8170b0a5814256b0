"""A short ``kith simulate``: two weeks of a small neighbourhood through the real processes,
through the same code as the command.

It asserts what must hold on every run, whatever the platform's rules become: the report's
shape, figures that agree with one another, some help actually given, and no suspended
person offered work or shown an address. The targets that depend on time-driven rules
(nobody stranded, no visit left open, served shares) are printed by ``kith simulate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kith.simulate.command import Options, simulate
from kith.simulate.metrics import FIGURES
from tests.conftest import Stack

pytestmark = pytest.mark.e2e

_WEEKS = 2


# Two weeks of moments take about a minute on a quiet machine; a busy one takes several.
@pytest.mark.timeout(480)
async def test_two_simulated_weeks_give_a_consistent_report_and_no_safeguarding_violation(
    own_stack: Stack, tmp_path: Path
) -> None:
    report = await simulate(
        Options(weeks=_WEEKS, seed=3, helpers=6, neighbours=6),
        tmp_path / "simulate",
        bootstrap=own_stack.bootstrap,
        database_url=own_stack.database_url,
    )

    assert set(FIGURES) <= set(report), "every figure is reported in all"
    assert [week["week"] for week in report["weeks"]] == list(range(1, _WEEKS + 1))
    for week in report["weeks"]:
        assert set(FIGURES) <= set(week), "every figure is reported per week"
    for figure in FIGURES:
        assert report[figure] == sum(week[figure] for week in report["weeks"]), figure
    for figures in [report, *report["weeks"]]:
        _consistent(figures)
    assert report["asked"] > 0, "the neighbours asked for help"
    assert report["served"] > 0, "some of it was given"
    assert report["safeguarding_violations"] == 0, report["violations"]
    # Each eligible occurrence left unserved is listed, with what kept each helper from it.
    assert len(report["unserved"]) == report["eligible"] - report["served_eligible"]
    assert set(report["targets"]) == {
        "stranded",
        "safeguarding_violations",
        "left_open",
        "served_share",
        "worst_week_share",
        "elapsed_s",
    }
    hours = report["hours"]
    assert [week["week"] for week in hours["weeks"]] == list(range(1, _WEEKS + 1))
    assert hours["balanced_every_week"] is True
    assert sum(week["hours_gifted"] for week in hours["weeks"]) == 3 * _WEEKS, "a gift a week"
    assert sum(week["visits_posted"] for week in hours["weeks"]) > 0, "visits were posted"


def _consistent(figures: dict[str, Any]) -> None:
    """Figures that count parts of one another agree."""
    assert all(figures[name] >= 0 for name in FIGURES)
    decided = figures["asked"] - figures["withdrawn"]
    assert decided >= 0
    # Every occurrence not withdrawn was, at its start, served or on the operators' list or
    # stranded: exactly one of the three.
    assert figures["served"] + figures["told_operators"] + figures["stranded"] == decided
    assert figures["eligible"] <= decided
    assert figures["served_eligible"] <= min(figures["served"], figures["eligible"])
    assert figures["served_by_regular"] <= figures["served"]
    assert figures["refilled_after_cancel"] <= figures["helper_cancelled"]
    assert figures["refilled_after_cancel"] <= figures["served"]
    assert figures["no_shows"] <= figures["served"]
    assert figures["left_open"] <= figures["served"]
    share = figures["served_share"]
    if figures["eligible"]:
        assert share == round(figures["served_eligible"] / figures["eligible"], 4)
    else:
        assert share is None
