"""``kith faults`` reports a scenario that could not finish, and runs the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from kith.faults import command
from kith.faults.result import ScenarioResult
from kith.faults.scenarios import Options


async def test_a_scenario_that_raises_is_reported_unclean_and_the_next_one_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def gives_up(folder: Path, options: Options) -> ScenarioResult:
        raise TimeoutError("matching never caught up")

    async def clean(folder: Path, options: Options) -> ScenarioResult:
        return ScenarioResult(3, 0, 0, 1.0)

    monkeypatch.setattr(command, "SCENARIOS", {"first": gives_up, "second": clean})

    results = await command._run_all(["first", "second"], Options(), keep=False)

    assert not results["first"].clean
    assert "matching never caught up" in results["first"].details["error"]
    assert results["second"] == ScenarioResult(3, 0, 0, 1.0)
