"""Turn consumed messages into handler calls."""

from __future__ import annotations

from services.trust.service_layer.handlers import InvalidEvent, Policy, handle
from services.trust.service_layer.ports import TrustUnitOfWork
from shared.contracts import Envelope, Payload
from shared.contracts.topics import BOOKINGS, CHECKINS, CONCERNS, PEOPLE, VETTING, Topic
from shared.messaging import Delivery, EventConsumer, Publisher, RejectedEvent
from shared.settings import Settings
from shared.unit_of_work import UnitOfWorkStarter

#: The streams trust learns from.
CONSUMED: tuple[Topic, ...] = (BOOKINGS, CHECKINS, VETTING, PEOPLE, CONCERNS)
#: The consumer group in production; tests pass their own.
GROUP_ID = "kith-trust"


def build_consumer(
    settings: Settings,
    *,
    start: UnitOfWorkStarter[TrustUnitOfWork],
    policy: Policy,
    dead_letters: Publisher,
    name: str = "trust",
    group_id: str = GROUP_ID,
) -> EventConsumer:
    """A consumer group member applying trust's streams; ``name`` also keys its inbox."""

    async def on_event(envelope: Envelope[Payload], _: Delivery) -> None:
        try:
            await handle(envelope, start, policy, name)
        except InvalidEvent as error:
            raise RejectedEvent(str(error)) from error

    return EventConsumer(
        settings,
        name=name,
        group_id=group_id,
        topics=CONSUMED,
        handler=on_event,
        dead_letters=dead_letters,
        # What trust derives (relationships, standing) matters within seconds, not
        # milliseconds: it waits longer on each fetch and costs an idle broker less.
        background=True,
        # But a concern it reads suspends someone at once, quiet spell or not: once idle it
        # waits no longer than the consumers requests wait on.
        idle_fetch_max_wait_ms=settings.idle_fetch_max_wait_ms,
    )
