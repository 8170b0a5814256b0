"""A partition that stopped moving while messages wait on it, and why.

A matching worker reads each partition from its committed offset, and commits only past
messages its streams handled. Two ways can stop a partition for good while the worker runs
on: the message at the committed offset went by unhandled (fetched before a
rebalance and refused, or dropped as read while its refetch was on its way), so every later
one was handled but the commit could never move; or the partition stayed paused in the
Kafka client after faust resumed it. The worker looks at each partition on a timer
(``Watch``); one unchanged over a whole look with messages waiting is read again from its
committed offset (and resumed), which handles nothing twice that matters: offers keep their
ids.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

#: How often a worker looks at each partition's progress: a stall is kicked after one to two.
WATCH_EVERY_S = 30.0


@dataclass(frozen=True, slots=True)
class Seen:
    """One partition at one look.

    Attributes:
        committed: The next offset the group would read from (faust's committed offset).
        read: The last offset handed to the streams.
        end: The partition's end as of the last fetch (``None`` before any).
        first_acked: The lowest offset handled but not yet committed.
        paused_in_client: Paused in the Kafka client though faust reads it.
    """

    committed: int | None
    read: int | None
    end: int | None
    first_acked: int | None
    paused_in_client: bool


def stuck(seen: Seen) -> str | None:
    """Why ``seen`` cannot move by itself, if it cannot; ``None`` when it can."""
    if seen.paused_in_client:
        return "paused in the Kafka client"
    if seen.committed is None:
        return None
    if seen.first_acked is not None and seen.first_acked > seen.committed:
        return "the message at the committed offset was never handled"
    if seen.end is None or seen.committed >= seen.end:
        return None
    if seen.read is None or seen.read + 1 < seen.end:
        return "messages wait past the last one read"
    return None


@dataclass
class Watch:
    """Per partition, what the last look saw; a partition is kicked once per stall."""

    _last: dict[Hashable, Seen] = field(default_factory=dict)
    _kicked: dict[Hashable, Seen] = field(default_factory=dict)

    def look(self, tp: Hashable, seen: Seen) -> str | None:
        """Why ``tp`` should be read again from its committed offset now, if it should: it is
        stuck, and nothing about it changed since the last look nor since it was last kicked
        (a stall a kick did not move is not kicked again until something changes)."""
        before, self._last[tp] = self._last.get(tp), seen
        reason = stuck(seen)
        if reason is None or before != seen or self._kicked.get(tp) == seen:
            return None
        self._kicked[tp] = seen
        return reason

    def reset(self) -> None:
        """Forget every look: a rebalance or a pause for recovery makes stillness normal."""
        self._last.clear()
        self._kicked.clear()
