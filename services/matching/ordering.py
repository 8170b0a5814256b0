"""Which fetched messages a matching worker's streams may see: each partition in order, from
where it was last sought.

faust seeks a worker's partitions to their committed offsets while its fetch loop is still
handing out a batch fetched before the seek. faust then delivers the rest of that batch
(offsets past the committed one), takes the last of them as read, and drops the messages
the seek fetches again as already read: requests nobody matched (``kith faults``'
matcher_kill, a few right after each takeover). ``InOrder`` lets through only the offset each
partition expects next. Anything below it was fetched before a seek back and comes again;
anything above it is a jump, so the partition is fetched again from the expected offset.
A jump that a fresh fetch from there repeats is a hole in the log (the offsets a
transactional producer's markers take on Apache Kafka) and is let through.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass, field

#: Fetches from one offset that must jump before the jump is taken for a hole in the log.
#: A batch fetched before a seek, or one already on its way back, jumps too: two in a row are
#: seen after a takeover, so a hole needs more than that.
REFETCHES_BEFORE_A_HOLE = 5


class Verdict(enum.Enum):
    DELIVER = "deliver"
    #: Not now: its turn has passed or comes again with the next fetch.
    DROP = "drop"
    #: A jump: drop it and fetch the partition again from ``InOrder.expected``.
    REFETCH = "refetch"


@dataclass
class InOrder:
    """The next offset each partition expects, and the refetches a jump has cost so far."""

    _next: dict[Hashable, int] = field(default_factory=dict)
    _refetches: dict[Hashable, tuple[int, int]] = field(default_factory=dict)

    def expected(self, tp: Hashable) -> int | None:
        return self._next.get(tp)

    def sought(self, tp: Hashable, offset: int | None) -> None:
        """The partition was positioned at ``offset`` (``None``: unknown, the broker chose)."""
        if offset is None or offset < 0:
            self._next.pop(tp, None)
        else:
            self._next[tp] = offset

    def forget(self, tp: Hashable) -> None:
        """The partition went to another worker."""
        self._next.pop(tp, None)
        self._refetches.pop(tp, None)

    def admit(self, tp: Hashable, offset: int, *, refetching: bool) -> Verdict:
        """What to do with a message just fetched; ``refetching``: a refetch of this
        partition was already asked for since its batch was fetched."""
        expected = self._next.get(tp)
        if expected is not None and offset != expected:
            if offset < expected or refetching:
                return Verdict.DROP
            at, tries = self._refetches.get(tp, (expected, 0))
            tries = tries + 1 if at == expected else 1
            if tries <= REFETCHES_BEFORE_A_HOLE:
                self._refetches[tp] = (expected, tries)
                return Verdict.REFETCH
        self._next[tp] = offset + 1
        self._refetches.pop(tp, None)
        return Verdict.DELIVER
