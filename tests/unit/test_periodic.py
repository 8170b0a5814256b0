"""The timer behind the services' sweeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from shared import clock
from shared.periodic import Periodic


async def test_it_runs_at_once_goes_on_after_a_failure_and_stops() -> None:
    runs = 0
    third = asyncio.Event()

    async def action() -> float | None:
        nonlocal runs
        runs += 1
        if runs == 2:
            raise OSError("the database went away")
        if runs == 3:
            third.set()
        return None

    periodic = Periodic("test sweep", action, every_s=0.01)
    running = asyncio.create_task(periodic.run())
    await asyncio.wait_for(third.wait(), timeout=5)
    periodic.stop()
    await asyncio.wait_for(running, timeout=5)
    assert running.exception() is None
    assert runs >= 3


async def test_a_sooner_wait_from_the_action_is_used() -> None:
    second = asyncio.Event()
    runs = 0

    async def action() -> float | None:
        nonlocal runs
        runs += 1
        if runs == 2:
            second.set()
        return 0.01

    # Without the sooner wait the second run would come only after an hour.
    periodic = Periodic("test sweep", action, every_s=3600)
    running = asyncio.create_task(periodic.run())
    try:
        await asyncio.wait_for(second.wait(), timeout=5)
    finally:
        periodic.stop()
        await asyncio.wait_for(running, timeout=5)


async def test_an_unexpected_error_is_not_swallowed() -> None:
    async def action() -> float | None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await asyncio.wait_for(Periodic("test sweep", action, every_s=0.01).run(), timeout=5)


async def test_a_clock_moved_while_the_action_runs_makes_it_run_again_at_once(
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "clock"
    clock.install(clock_file)
    second = asyncio.Event()
    runs = 0

    async def action() -> float | None:
        nonlocal runs
        runs += 1
        if runs == 1:
            # The run took its present, then the clock moved before the next wait began.
            clock.advance(clock_file, timedelta(hours=4))
        else:
            second.set()
        return None

    periodic = Periodic("test sweep", action, every_s=3600)
    running = asyncio.create_task(periodic.run())
    try:
        await asyncio.wait_for(second.wait(), timeout=5)
    finally:
        periodic.stop()
        await asyncio.wait_for(running, timeout=5)
        clock.install(None)
