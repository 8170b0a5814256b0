"""The periodic sweeps: pausing pairs with no recent visit, and lapsing vetting approvals."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from services.trust.domain.relationship import Rules
from services.trust.service_layer.handlers import (
    Policy,
    expire_approvals,
    next_expiry,
    pause_stale,
)
from services.trust.service_layer.ports import TrustUnitOfWork
from shared.contracts import utc_now
from shared.periodic import Periodic
from shared.unit_of_work import UnitOfWorkStarter

log = structlog.get_logger(__name__)


class PauseSweep:
    """Every ``every_s`` seconds, pause the pairs that have gone quiet."""

    def __init__(
        self, start: UnitOfWorkStarter[TrustUnitOfWork], rules: Rules, *, every_s: float
    ) -> None:
        self._start = start
        self._rules = rules
        self._periodic = Periodic("pause sweep", self._sweep, every_s=every_s)

    async def run(self) -> None:
        """Sweep until ``stop``; a failed sweep is logged and tried again next time."""
        await self._periodic.run()

    async def _sweep(self) -> None:
        paused = await self.sweep_once()
        if paused:
            log.info("paused quiet relationships", count=paused)

    async def sweep_once(self, now: datetime | None = None) -> int:
        """Pause what is due at ``now`` (default: the present); return how many were paused."""
        return await pause_stale(self._start, self._rules, now=now or utc_now())

    def stop(self) -> None:
        """Return from ``run`` after the sweep in hand."""
        self._periodic.stop()


class ExpirySweep:
    """Republish a person's standing as soon as one of their vetting approvals lapses.

    It wakes at the earliest known expiry, and at least every ``every_s`` seconds so that an
    approval published while it slept is seen: ``every_s`` is kept below the validity of an
    approval, so an expiry is never overslept by more than the time of one sweep.
    """

    def __init__(
        self, start: UnitOfWorkStarter[TrustUnitOfWork], policy: Policy, *, every_s: float
    ) -> None:
        self._start = start
        self._policy = policy
        every_s = min(every_s, max(policy.shortest_validity.total_seconds() / 2, 0.5))
        self._periodic = Periodic("expiry sweep", self._sweep, every_s=every_s)

    async def run(self) -> None:
        """Sweep until ``stop``; a failed sweep is logged and tried again next time."""
        await self._periodic.run()

    async def _sweep(self) -> float | None:
        """Sweep; return how soon the next approval lapses, if sooner than the usual wait."""
        lapsed = await self.sweep_once()
        if lapsed:
            log.info("vetting approvals lapsed", people=lapsed)
        upcoming = await next_expiry(self._start)
        if upcoming is None:
            return None
        # A little after the expiry, so that it has passed when the sweep looks.
        due_in = upcoming - utc_now() + timedelta(milliseconds=5)
        return max(due_in.total_seconds(), 0.05)

    async def sweep_once(self, now: datetime | None = None) -> int:
        """Republish the standing of people whose approval lapsed by ``now``; return how many."""
        return await expire_approvals(self._start, self._policy, now=now or utc_now())

    def stop(self) -> None:
        """Return from ``run`` after the sweep in hand."""
        self._periodic.stop()
