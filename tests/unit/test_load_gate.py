"""The gate that holds a fault scenario's load at the next kill's point while a killed
process comes back."""

from __future__ import annotations

import asyncio

from kith.faults.gate import LoadGate
from tests.support import eventually


async def test_work_below_the_mark_goes_on_and_work_at_it_waits_until_released() -> None:
    gate = LoadGate()
    gate.hold_at(5)

    assert await gate.wait(4) is False, "below the mark: no wait"
    held = asyncio.create_task(gate.wait(5))
    await eventually(lambda: asyncio.sleep(0, gate.held == 1), timeout_s=1, what="held")
    assert not held.done(), "at the mark: held"

    gate.hold_at(None)
    assert await asyncio.wait_for(held, 1) is True, "released, and says it waited"
    assert gate.held == 0


async def test_a_mark_moved_further_lets_work_below_it_through() -> None:
    gate = LoadGate()
    gate.hold_at(3)
    held = asyncio.create_task(gate.wait(4))
    await eventually(lambda: asyncio.sleep(0, gate.held == 1), timeout_s=1, what="held")
    assert not held.done()

    gate.hold_at(8)
    assert await asyncio.wait_for(held, 1) is True
    assert await gate.wait(7) is False


async def test_an_open_gate_never_holds() -> None:
    assert await LoadGate().wait(1_000_000) is False
