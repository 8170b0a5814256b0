"""Booking's visit events into postings."""

from __future__ import annotations

from services.ledger.adapters.metrics import POSTINGS
from services.ledger.service_layer.handlers import handle
from services.ledger.service_layer.ports import LedgerUnitOfWork
from shared.contracts import Envelope, Payload
from shared.contracts.topics import BOOKINGS, Topic
from shared.messaging import Delivery, EventConsumer, Publisher
from shared.settings import Settings
from shared.unit_of_work import UnitOfWorkStarter

#: The stream the ledger learns from: visits booked, moved, cancelled and completed.
CONSUMED: tuple[Topic, ...] = (BOOKINGS,)


def build_consumer(
    settings: Settings,
    *,
    start: UnitOfWorkStarter[LedgerUnitOfWork],
    dead_letters: Publisher,
    name: str = "ledger",
    group_id: str = "kith-ledger",
) -> EventConsumer:
    """A consumer group member posting each completed visit and late cancellation once."""

    async def on_event(envelope: Envelope[Payload], _: Delivery) -> None:
        if await handle(envelope, start):
            POSTINGS.labels(envelope.type).inc()

    return EventConsumer(
        settings,
        name=name,
        group_id=group_id,
        topics=CONSUMED,
        handler=on_event,
        dead_letters=dead_letters,
        # Nobody waits on a posting the way a helper waits on an offer.
        background=True,
    )
