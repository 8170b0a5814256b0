"""The console's live state: recent events, the ledger behind the panels, and subscribers.

Everything read from the streams goes through ``Console.take``, which updates the ledger,
keeps the event in a bounded history and hands it to every browser following the events.
A subscriber that falls too far behind is dropped rather than slowing the others; its
browser reconnects and catches up from the history (``after``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from services.ops.domain import (
    Figures,
    Ledger,
    OpenConcern,
    Waiting,
    figures,
    open_concerns,
    waiting,
)
from services.ops.domain.ledger import KEEP
from services.ops.domain.neighbourhood_map import Place, places
from shared.contracts import utc_now
from shared.observed import EventFilter, Observed

#: Events kept for browsers that connect (or reconnect) later.
HISTORY = 2000
#: Events a browser may fall behind by before it is dropped (it reconnects and catches up).
QUEUE = 1000
#: Shown in a list of a payload's items at most (an availability holds hundreds of hours).
MAX_ITEMS = 12
_FORGET_EVERY = 5000


class Shown:
    """An event as the console shows it: its place in the console's sequence and its view.

    The view is built when first asked for: most events read while the console replays the
    streams' history are never shown to anyone.
    """

    def __init__(self, seq: int, seen: Observed) -> None:
        self.seq = seq
        self.seen = seen

    @cached_property
    def view(self) -> dict[str, Any]:
        """The JSON the browser gets."""
        return view_of(self.seq, self.seen)


@dataclass(eq=False, slots=True)
class Subscription:
    """One browser following the events through ``filter``; ``None`` in the queue ends it."""

    filter: EventFilter
    queue: asyncio.Queue[Shown | None] = field(default_factory=lambda: asyncio.Queue(QUEUE))


def view_of(seq: int, seen: Observed) -> dict[str, Any]:
    """The JSON the browser gets for one event; a check-in's note is never in it."""
    envelope = seen.envelope
    refusal = seen.refusal
    return {
        "seq": seq,
        "at": seen.at.isoformat(),
        "topic": seen.topic,
        "stream": seen.stream,
        "partition": seen.partition,
        "offset": seen.offset,
        "key": seen.key.decode(errors="replace") if seen.key is not None else None,
        "type": seen.type,
        "event_id": str(envelope.event_id) if envelope else None,
        "correlation_id": str(envelope.correlation_id) if envelope else None,
        "producer": envelope.producer if envelope else None,
        "headline": seen.headline(),
        "neighbourhood": seen.neighbourhood,
        "people": sorted(seen.people),
        "data": seen.public_data(max_items=MAX_ITEMS),
        "problem": seen.problem,
        "refusal": None
        if refusal is None
        else {
            "reason": refusal.reason,
            "topic": refusal.topic,
            "partition": refusal.partition,
            "offset": refusal.offset,
            "consumer": refusal.consumer,
        },
    }


class Console:
    """The state every console endpoint reads.

    Args:
        history: How many recent events to keep for browsers that connect later.
        clock: The time now (tests pass a fixed one).
    """

    def __init__(self, *, history: int = HISTORY, clock: Callable[[], datetime] = utc_now):
        self.ledger = Ledger()
        self.caught_up = False
        """Whether everything on the topics at start has been read (the panels are whole)."""
        self._history: deque[Shown] = deque(maxlen=history)
        self._subscribers: set[Subscription] = set()
        self._clock = clock
        self._seq = 0
        self._closed = False

    @property
    def seen(self) -> int:
        """How many messages the console has taken since it started."""
        return self._seq

    def take(self, seen: Observed) -> Shown:
        """Take one message read from a stream: update the panels and tell every subscriber."""
        self._seq += 1
        if seen.envelope is not None and seen.refusal is None:
            self.ledger.apply(seen.envelope)
        if self._seq % _FORGET_EVERY == 0:
            self.ledger.forget_before(self._clock() - KEEP)
        shown = Shown(self._seq, seen)
        self._history.append(shown)
        for subscription in list(self._subscribers):
            if not subscription.filter.matches(seen):
                continue
            try:
                subscription.queue.put_nowait(shown)
            except asyncio.QueueFull:
                self._drop(subscription)
        return shown

    def recent(self, event_filter: EventFilter, *, after: int = 0, limit: int = 200) -> list[Shown]:
        """The latest ``limit`` events in the history that pass the filter, oldest first."""
        found: list[Shown] = []
        for shown in reversed(self._history):
            if shown.seq <= after or len(found) >= limit:
                break
            if event_filter.matches(shown.seen):
                found.append(shown)
        found.reverse()
        return found

    def subscribe(self, event_filter: EventFilter) -> Subscription:
        """Follow new events through ``event_filter`` until ``unsubscribe`` or ``close``."""
        subscription = Subscription(event_filter)
        if self._closed:
            subscription.queue.put_nowait(None)
        else:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop following (the browser went away)."""
        self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every subscription, so that open event streams finish and the server can stop."""
        self._closed = True
        for subscription in list(self._subscribers):
            self._drop(subscription)

    def waiting(self, *, neighbourhood: str | None = None) -> list[Waiting]:
        """Everyone waiting for help (in ``neighbourhood`` only, if given), escalations first."""
        return waiting(self.ledger, self._clock(), neighbourhood=neighbourhood)

    def places(self) -> list[Place]:
        """The map's neighbourhoods: people waiting against helpers' weekly hours."""
        return places(
            (row.neighbourhood for row in self.waiting()), self.ledger.weekly_hours.values()
        )

    def concerns(self) -> list[OpenConcern]:
        """Concerns waiting for an operator, the oldest first."""
        return open_concerns(self.ledger)

    def figures(self) -> Figures:
        """The live figures."""
        return figures(self.ledger, self._clock())

    def _drop(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        # Make room for the end mark: what it misses, it fetches again on reconnecting.
        while not subscription.queue.empty():
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(None)
