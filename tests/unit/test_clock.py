"""The one clock every process shares, and moving it."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kith.clock import app as clock_command
from shared import clock
from shared.contracts import utc_now
from shared.periodic import Periodic
from tests.support import eventually


@pytest.fixture
def clock_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "clock"
    clock.install(path)
    yield path
    clock.install(None)


def test_real_time_when_no_clock_file_is_set() -> None:
    clock.install(None)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.offset() == timedelta(0)


def test_advancing_moves_every_reader_at_once(clock_file: Path) -> None:
    before = utc_now()
    clock.advance(clock_file, timedelta(days=7))
    # A second process's view: another clock on the same file.
    other = clock.MovableClock(clock_file)
    for present in (utc_now(), other.now()):
        assert timedelta(days=7) <= present - before < timedelta(days=7, seconds=5)
    clock.advance(clock_file, clock.parse_duration("1d12h"))
    assert clock.offset() == timedelta(days=8, hours=12)
    assert other.offset() == timedelta(days=8, hours=12)


def test_the_clock_never_moves_back(clock_file: Path) -> None:
    with pytest.raises(ValueError, match="forward"):
        clock.advance(clock_file, timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 7 * 86400), ("2w", 14 * 86400), ("1d12h", 129_600), ("90m", 5400), ("30s", 30)],
)
def test_durations(text: str, seconds: int) -> None:
    assert clock.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "-1d", "1d 2q"])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        clock.parse_duration(text)


async def test_a_sleeper_wakes_when_the_clock_is_moved(clock_file: Path) -> None:
    started = time.monotonic()
    sleeper = asyncio.create_task(clock.sleep(3600))
    # Callbacks run in the order they were scheduled: the sleeper reads the offset first.
    asyncio.get_running_loop().call_soon(clock.advance, clock_file, timedelta(hours=1))
    await asyncio.wait_for(sleeper, timeout=5)
    assert time.monotonic() - started < 5


@pytest.mark.skipif(sys.platform != "linux", reason="inotify is Linux's")
async def test_on_linux_a_sleeper_hears_of_a_move_without_looking_at_the_file(
    clock_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the watch looking at the file on a timer, it would not look again within the hour.
    monkeypatch.setattr(clock.MovableClock, "watch_every_s", 3600.0)
    sleeper = asyncio.create_task(clock.sleep(3600))
    await eventually(lambda: _watching(1), what="a watch")
    (clock_file.parent / "another-file").write_text("not the clock")
    clock.advance(clock_file, timedelta(hours=1))
    await asyncio.wait_for(sleeper, timeout=5)


async def test_where_the_folder_cannot_be_watched_the_clock_is_looked_at_in_turn(
    clock_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwatchable(folder: Path) -> None:
        raise OSError("inotify watch limit reached")

    monkeypatch.setattr("shared.clock._watch_folder", unwatchable)
    monkeypatch.setattr(clock.MovableClock, "watch_every_s", 0.05)
    sleeper = asyncio.create_task(clock.sleep(3600))
    await eventually(lambda: _watching(1), what="a watch")
    clock.advance(clock_file, timedelta(hours=1))
    await asyncio.wait_for(sleeper, timeout=5)


async def test_a_move_after_the_offset_a_sleeper_acted_on_ends_its_sleep_at_once(
    clock_file: Path,
) -> None:
    # Another sleeper keeps the watch going, so the move below is seen as soon as it is made.
    other = asyncio.create_task(clock.sleep(3600))
    await eventually(lambda: _watching(1), what="a watch")
    seen = clock.offset()
    clock.advance(clock_file, timedelta(hours=1))
    await asyncio.wait_for(other, timeout=5)  # the watch has taken the move in
    # A sleep that begins only now, from the offset its caller acted on, ends at once.
    await asyncio.wait_for(clock.sleep(3600, since=seen), timeout=5)


async def test_a_periodic_run_sleeps_from_the_offset_its_run_saw(
    clock_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[timedelta | None] = []

    async def sleep(seconds: float, *, since: timedelta | None = None) -> None:
        sleeps.append(since)
        periodic.stop()

    monkeypatch.setattr(clock, "sleep", sleep)
    periodic = Periodic("sweep", _nothing, every_s=3600)
    before = clock.offset()
    await asyncio.wait_for(periodic.run(), timeout=5)
    assert sleeps == [before]


async def _nothing() -> float | None:
    return None


def _clock_watches() -> list[asyncio.Task[object]]:
    return [task for task in asyncio.all_tasks() if task.get_name() == "clock-watch"]


async def _watching(count: int) -> bool:
    return len(_clock_watches()) == count


async def test_every_sleeper_of_a_process_shares_one_look_at_the_clock(
    clock_file: Path,
) -> None:
    sleepers = [asyncio.create_task(clock.sleep(3600)) for _ in range(20)]
    await eventually(lambda: _watching(1), what="a watch")
    assert len(_clock_watches()) == 1, "one for all twenty"
    clock.advance(clock_file, timedelta(hours=1))
    # One look wakes all twenty, well within an hour.
    await asyncio.wait_for(asyncio.gather(*sleepers), timeout=5)
    await eventually(lambda: _watching(0), what="the watch ended with its last sleeper")


async def test_a_short_sleep_ends_on_time_while_the_clock_stays(clock_file: Path) -> None:
    started = time.monotonic()
    await clock.sleep(0.05)
    assert 0.04 <= time.monotonic() - started < 5
    await eventually(lambda: _watching(0), what="the watch ended with its only sleeper")


async def test_a_periodic_run_due_in_a_day_runs_once_the_clock_moves_a_day(
    clock_file: Path,
) -> None:
    runs: list[datetime] = []
    first, second = asyncio.Event(), asyncio.Event()

    async def action() -> float | None:
        runs.append(utc_now())
        (first if len(runs) == 1 else second).set()
        return None

    periodic = Periodic("daily sweep", action, every_s=86400)
    running = asyncio.create_task(periodic.run())
    try:
        await asyncio.wait_for(first.wait(), timeout=5)
        clock.advance(clock_file, timedelta(days=1))
        await asyncio.wait_for(second.wait(), timeout=5)
    finally:
        periodic.stop()
        await asyncio.wait_for(running, timeout=5)
    assert runs[1] - runs[0] >= timedelta(days=1)


def test_kith_clock_advance_moves_a_development_clock_and_refuses_a_production_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    path = tmp_path / "clock"
    for name in ("KITH_KAFKA_BOOTSTRAP", "KITH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KITH_CLOCK_FILE", str(path))
    moved = runner.invoke(clock_command, ["advance", "1d12h"])
    assert moved.exit_code == 0, moved.output
    assert clock.read_offset(path) == timedelta(days=1, hours=12)
    shown = runner.invoke(clock_command, ["show"])
    assert shown.exit_code == 0, shown.output
    assert "1 day, 12:00:00 ahead" in shown.output

    # A Kith on an external broker and database runs on real time.
    monkeypatch.delenv("KITH_CLOCK_FILE")
    monkeypatch.setenv("KITH_KAFKA_BOOTSTRAP", "kafka-1:9092")
    monkeypatch.setenv("KITH_DATABASE_URL", "postgresql://kith@db.internal/postgres")
    refused = runner.invoke(clock_command, ["advance", "7d"])
    assert refused.exit_code != 0
    assert "cannot be moved" in refused.output
