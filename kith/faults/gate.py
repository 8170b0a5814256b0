"""Holding a load back while a killed process comes back, so that every kill lands under load.

A scenario kills a process at random points of its load and waits until the process is back
before the next kill. A consumer takes 12 to 17 s to be back in its group (the dead member's
session must end first), and a load of a few hundred visits runs its course in less: without
a hold, all but the first of five kills landed after the load had ended, on an idle Kith. So
while a killed process comes back the load goes on up to the next kill's point, not past
it, and resumes once the process is back; the next kill waits for the load to be moving
again.
"""

from __future__ import annotations

import asyncio


class LoadGate:
    """Where a load must stop starting new work (``hold_at``), and waiting for it to move."""

    def __init__(self) -> None:
        self._mark: int | None = None
        self._changed = asyncio.Event()
        self.held = 0
        """How many are waiting at the mark now."""

    def hold_at(self, mark: int | None) -> None:
        """Start no new work once ``mark`` units are done; ``None``: no limit."""
        self._mark = mark
        self._changed.set()

    async def wait(self, done: int) -> bool:
        """Before starting more work, having done ``done``: wait while held there. Whether it
        waited (an open-loop load starts its schedule again from now)."""
        waited = False
        while self._mark is not None and done >= self._mark:
            waited = True
            self._changed.clear()
            self.held += 1
            try:
                await self._changed.wait()
            finally:
                self.held -= 1
        return waited
