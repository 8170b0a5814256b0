"""A consumer's fetch wait: short while records flow, long once it has been idle.

The embedded broker answers a fetch that finds no data only when its wait is over, and looks
at every partition of the fetch on each pass: matching, idle, fetching its 59 partitions
every 25 ms cost it about a third of a core. Once a consumer has read nothing for
``IDLE_AFTER_S`` it fetches with its idle wait (the settings' ``idle_fetch_max_wait_ms``, or a
longer one for consumers whose records no screen waits on); its first record puts the short
wait back. Only the first hop after a quiet spell waits longer; a steady flow,
or a conversation with pauses of a few seconds, never does.

While idle, aiokafka's fetch routine also wakes only as often as its fetch returns: each of
its other reasons to look again (a fetch answered, records taken, a partition resumed or
unassigned) ends its wait at once anyway, and eight consumers waking every second for
nothing were a fifth of an idle Kith's services' wakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: Seconds without a record before a consumer counts as idle.
IDLE_AFTER_S = 10.0
#: How long Kith's reads wait for records before their loop goes round with nothing to
#: do. Records arriving, a rebalance or a stop wake them at once regardless.
IDLE_WAKE_MS = 5000
#: How often aiokafka's fetch routine wakes with nothing to do (its ``consumer_timeout_ms``,
#: 200 by default). Not as seldom as Kith's reads: it also looks then whether partitions can
#: be fetched again, and at 5 s a matching worker restarted under load took from 24 s to
#: two minutes, instead of 15 s, to read what it had missed (``kith faults --scenario
#: crash_anywhere``).
FETCH_ROUTINE_WAKE_MS = 1000


class FetchWait:
    """Sets an aiokafka consumer's fetch wait from what its reads return."""

    def __init__(
        self, *, busy_ms: int, idle_ms: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._busy_ms = busy_ms
        self._idle_ms = idle_ms
        self._clock = clock
        self._last_record = clock()
        self.current_ms = busy_ms
        """The wait now asked for."""

    @property
    def idle_ms(self) -> int:
        """The wait once idle."""
        return self._idle_ms

    def after_read(self, consumer: Any, records: int) -> None:
        """Call after each read of ``consumer`` (an ``AIOKafkaConsumer``, or None before it
        started) with how many records it returned."""
        now = self._clock()
        if records:
            self._last_record = now
            wanted = self._busy_ms
        elif now - self._last_record >= IDLE_AFTER_S:
            wanted = self._idle_ms
        else:
            return
        fetcher = getattr(consumer, "_fetcher", None)  # aiokafka builds it when started
        if wanted != self.current_ms and fetcher is not None:
            # aiokafka reads these attributes for every fetch request it builds and every
            # time its routine goes round.
            fetcher._fetch_max_wait_ms = wanted
            fetcher._fetcher_timeout = routine_wake_s(wanted)
            self.current_ms = wanted


def routine_wake_s(fetch_wait_ms: int) -> float:
    """How long aiokafka's fetch routine may sleep while fetches wait ``fetch_wait_ms``:
    ``FETCH_ROUTINE_WAKE_MS`` while records flow (a short wait), once per fetch when idle."""
    return max(FETCH_ROUTINE_WAKE_MS, fetch_wait_ms) / 1000
