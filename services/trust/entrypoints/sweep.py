"""The periodic sweep that pauses pairs with no recent visit."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import asyncpg
import structlog

from services.trust.domain.relationship import Rules
from services.trust.service_layer.handlers import pause_stale
from services.trust.service_layer.ports import UnitOfWorkFactory
from shared.contracts import utc_now

log = structlog.get_logger(__name__)


class PauseSweep:
    """Every ``every_s`` seconds, pause the pairs that have gone quiet."""

    def __init__(self, uow_factory: UnitOfWorkFactory, rules: Rules, *, every_s: float) -> None:
        self._uow_factory = uow_factory
        self._rules = rules
        self._every_s = every_s
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Sweep until ``stop``; a failed sweep is logged and tried again next time."""
        while not self._stopping.is_set():
            try:
                paused = await self.sweep_once()
                if paused:
                    log.info("paused quiet relationships", count=paused)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("pause sweep failed", error=repr(error))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._every_s)

    async def sweep_once(self, now: datetime | None = None) -> int:
        """Pause what is due at ``now`` (default: the present); return how many were paused."""
        return await pause_stale(self._uow_factory, self._rules, now=now or utc_now())

    def stop(self) -> None:
        """Return from ``run`` after the sweep in hand."""
        self._stopping.set()
