"""faust's table recovery, patched for Kith: no fixed sleep at start, and one more seek once a
recovery ends. Beside the driver, the other part of faust that matching adjusts."""

from __future__ import annotations

import logging

from faust.tables import TableManager
from faust.tables.recovery import Recovery


class ReseekingRecovery(Recovery):
    """faust's table recovery, with one more seek to the committed offsets at its end.

    faust lets the streams flow part-way through a recovery (to read standby and global
    changelogs), so a worker taking over partitions fetches and queues their events; at the
    end it seeks to the committed offsets and only then resumes flow control, which empties
    the agents' queues. Events queued in between were dropped while the fetch position was
    already past them: lost until the worker restarted (``kith faults``' matcher_kill found
    it). Seeking again once the queues are emptied fetches them again; an event handled twice
    has no second effect (offers keep their ids, state is keyed).
    """

    # faust's own (quiet) logger family; see ``EagerTableManager``.
    logger = logging.getLogger("faust.tables.recovery.kith")

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        await super().on_recovery_completed(generation_id)
        # Skipped when another rebalance began meanwhile: its own recovery seeks.
        if self.app.consumer_generation_id == generation_id and not self.app.rebalancing:
            await self.app.consumer.perform_seek()


class EagerTableManager(TableManager):
    """faust's table manager without its hard-coded one-second sleep at start, recovering
    with ``ReseekingRecovery``."""

    # Log under faust's (quiet) loggers, not this module's (matching's own logs). A name of
    # our own: mode replaces a logger it has already handed out with the module's.
    logger = logging.getLogger("faust.tables.manager.kith")

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = ReseekingRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery

    async def on_start(self) -> None:
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()
