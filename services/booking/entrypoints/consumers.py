"""Booking's consumer of matching's offers, trust's relationships and standing, and what
partners send through the gateway."""

from __future__ import annotations

from functools import partial

from services.booking.service_layer import events
from services.booking.service_layer.ports import UnitOfWork
from shared.contracts import Envelope, Payload
from shared.contracts.requests import OfferMade
from shared.contracts.topics import OFFERS, PARTNERS, RELATIONSHIPS, STANDING
from shared.messaging import Delivery, EventConsumer, Handler, Publisher
from shared.settings import Settings

#: The consumer group in production; tests pass their own.
GROUP_ID = "kith-booking"
TOPICS = (OFFERS, RELATIONSHIPS, STANDING, PARTNERS)


def make_handler(uow: UnitOfWork, settings: Settings) -> Handler:
    """A thin handler: decoding and dead letters are the consumer's, effects the service's."""

    async def handle(envelope: Envelope[Payload], _: Delivery) -> None:
        await events.apply(uow, envelope, settings.referral_time_zone)

    return handle


def make_consumer(
    settings: Settings, uow: UnitOfWork, publisher: Publisher, group_id: str = GROUP_ID
) -> EventConsumer:
    """One group member over every topic booking reads."""
    return EventConsumer(
        settings,
        name="booking",
        group_id=group_id,
        topics=TOPICS,
        handler=make_handler(uow, settings),
        dead_letters=publisher,
        # Offers (keyed by request) lock their request's row; relationships, standing and
        # partners' events each touch their own rows.
        partitions_in_parallel=True,
        # A request's offers come in runs (a round is several): one statement per run.
        batch_handlers={OfferMade.TYPE: partial(events.apply_offers, uow)},
        # Trust tombstones an erased person's standing: booking forgets its copy.
        on_tombstone=partial(events.forget, uow),
    )
