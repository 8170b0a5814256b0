"""``kith faults`` reports a scenario that could not finish, and runs the others."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from kith.faults import command
from kith.faults.result import ScenarioResult
from kith.faults.scenarios import Options


async def test_a_scenario_that_raises_is_reported_unclean_and_the_next_one_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    async def gives_up(folder: Path, options: Options) -> ScenarioResult:
        raise TimeoutError("matching never caught up")

    async def clean(folder: Path, options: Options) -> ScenarioResult:
        return ScenarioResult(3, 0, 0, 1.0)

    monkeypatch.setattr(command, "SCENARIOS", {"first": gives_up, "second": clean})

    results = await command._run_all(["first", "second"], Options(), keep=False)

    assert not results["first"].clean
    assert "matching never caught up" in results["first"].details["error"]
    assert results["second"] == ScenarioResult(3, 0, 0, 1.0)


async def test_a_failed_scenario_keeps_its_logs_and_drops_its_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    async def fails(folder: Path, options: Options) -> ScenarioResult:
        (folder / "run").mkdir()
        (folder / "run" / "booking.log").write_text("booking refused connections")
        (folder / "postgres").mkdir()
        (folder / "postgres" / "postgres.log").write_text("database system is ready")
        (folder / "postgres" / "base.dat").write_bytes(b"\0" * 1024)
        raise TimeoutError("booking never came back")

    async def loses(folder: Path, options: Options) -> ScenarioResult:
        (folder / "kith-up.log").write_text("a booking was lost")
        return ScenarioResult(10, 1, 0, 1.0)

    async def clean(folder: Path, options: Options) -> ScenarioResult:
        (folder / "kith-up.log").write_text("all well")
        return ScenarioResult(3, 0, 0, 1.0)

    monkeypatch.setattr(command, "SCENARIOS", {"fails": fails, "loses": loses, "clean": clean})

    results = await command._run_all(["fails", "loses", "clean"], Options(), keep=False)

    left = await asyncio.to_thread(lambda: sorted(str(path) for path in tmp_path.iterdir()))
    assert left == sorted([results["fails"].details["logs"], results["loses"].details["logs"]]), (
        "only the failed scenarios leave a folder, of their logs"
    )
    fails_logs = Path(results["fails"].details["logs"])
    assert (fails_logs / "run" / "booking.log").read_text() == "booking refused connections"
    assert (fails_logs / "postgres" / "postgres.log").exists()
    assert not (fails_logs / "postgres" / "base.dat").exists(), "the data is not kept"
    assert (Path(results["loses"].details["logs"]) / "kith-up.log").exists()
    assert "logs" not in results["clean"].details
