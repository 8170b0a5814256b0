"""Turn consumed events into recorded notices, and wake the sender."""

from __future__ import annotations

import asyncio

from services.notify.service_layer.handlers import handle
from services.notify.service_layer.ports import NotifyStore
from shared.contracts import Envelope, Payload, utc_now
from shared.contracts.topics import ACCOUNTS, BOOKINGS, CONCERNS, OFFERS, VETTING, Topic
from shared.messaging import Delivery, EventConsumer, Publisher
from shared.settings import Settings

#: The streams notify learns from: visits, offers, vetting, concerns, account links (ids only).
CONSUMED: tuple[Topic, ...] = (BOOKINGS, OFFERS, VETTING, CONCERNS, ACCOUNTS)


def build_consumer(
    settings: Settings,
    *,
    store: NotifyStore,
    wake: asyncio.Event,
    dead_letters: Publisher,
    name: str = "notify",
    group_id: str = "kith-notify",
) -> EventConsumer:
    """A consumer group member recording what each event means to whom.

    No inbox table: each notice's identity includes the event id, so an event handled again
    records nothing new.
    """

    async def on_event(envelope: Envelope[Payload], _: Delivery) -> None:
        if await handle(envelope, store, utc_now()):
            wake.set()

    return EventConsumer(
        settings,
        name=name,
        group_id=group_id,
        topics=CONSUMED,
        handler=on_event,
        dead_letters=dead_letters,
        # What it reads becomes an email, a text or a push, which take seconds to arrive
        # anyway, not an answer on a screen: once idle it waits longer, and costs the broker
        # less.
        idle_fetch_max_wait_ms=settings.message_idle_fetch_max_wait_ms,
    )
