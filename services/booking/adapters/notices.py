"""Notices to signed-in clients: "something of yours changed, read it again".

A change that a client waits for (an offer made for a neighbour's request, an offer in a
helper's inbox) sends a PostgreSQL NOTIFY from the statement that commits it, so a notice is
never sent for a change that did not happen. Every booking process LISTENs and hands each
notice to its own subscribers of that person: a client may be connected to any process.

Notices are hints, not a record: a client that was away reads its lists again (they are the
truth), so a subscriber that falls behind is closed rather than left to grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger(__name__)

#: The channel. A payload is either an offer (``offer_notices`` says who hears of it) or one
#: notice to one person: ``{"to": person id, "type": kind, "data": {...}}``.
NOTICE_CHANNEL = "kith_notices"
#: Notices a subscriber may have waiting before it is closed (it reconnects and rereads).
BACKLOG = 256


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing for one person: its type (an SSE event name) and what to read again."""

    type: str
    data: dict[str, str]


@dataclass(eq=False)
class Subscription:
    """One client's stream of notices; ``None`` on the queue ends it."""

    person_id: uuid.UUID
    queue: asyncio.Queue[Notice | None] = field(default_factory=lambda: asyncio.Queue(BACKLOG + 1))


def notices_of(payload: dict[str, Any]) -> dict[uuid.UUID, Notice]:
    """Who hears of one NOTIFY payload, and what."""
    if "to" in payload:
        data = {str(name): str(value) for name, value in dict(payload["data"]).items()}
        return {uuid.UUID(str(payload["to"])): Notice(str(payload["type"]), data)}
    return offer_notices(payload)


def offer_notices(payload: dict[str, Any]) -> dict[uuid.UUID, Notice]:
    """Who hears of a new open offer, and what: the helper its offer, the neighbour only that
    their request was offered (who to, they learn once it is booked)."""
    request = {"request_id": str(payload["request_id"])}
    return {
        uuid.UUID(str(payload["helper_id"])): Notice(
            "offer.received", {"offer_id": str(payload["offer_id"]), **request}
        ),
        uuid.UUID(str(payload["neighbour_id"])): Notice("request.offered", request),
    }


class NoticeBoard:
    """This process's subscribers, fed with ``deliver`` from the notice channel."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[uuid.UUID, set[Subscription]] = defaultdict(set)

    def subscribe(self, person_id: uuid.UUID) -> Subscription:
        """Start receiving ``person_id``'s notices."""
        subscription = Subscription(person_id)
        self._subscribers[person_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop; safe to call twice."""
        subscribers = self._subscribers.get(subscription.person_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.person_id]

    def close(self) -> None:
        """End every subscriber's stream (the process is stopping)."""
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                _end(subscription)

    def deliver(self, payload: str) -> None:
        """Hand one NOTIFY payload of ``NOTICE_CHANNEL`` to the subscribers it concerns."""
        if not self._subscribers:
            return  # nobody here is listening: skip the parse
        try:
            notices = notices_of(json.loads(payload))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("notices: unreadable", error=repr(error))
            return
        for person_id, notice in notices.items():
            for subscription in list(self._subscribers.get(person_id, ())):
                if subscription.queue.qsize() >= BACKLOG:
                    self.unsubscribe(subscription)
                    _end(subscription)  # fell behind: it reconnects and reads its lists
                else:
                    subscription.queue.put_nowait(notice)


def _end(subscription: Subscription) -> None:
    with contextlib.suppress(asyncio.QueueFull):
        subscription.queue.put_nowait(None)
