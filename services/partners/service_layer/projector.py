"""Project public events to each partner's feed (and webhook), reduced to what it may see."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from services.partners.domain.partner import Partner
from services.partners.domain.projection import safeguarding_view, standing_view, view_for
from services.partners.service_layer.directory import PartnerDirectory
from services.partners.service_layer.ports import Feeds, PartnersUnitOfWork
from services.partners.service_layer.records import FeedMessage
from shared.contracts import Envelope, Payload
from shared.contracts.people import PersonErased, PersonProfileChanged
from shared.contracts.redaction import people_named, redacted
from shared.contracts.requests import OfferMade
from shared.contracts.topics import CONCERNS, STANDING
from shared.contracts.trust import ConcernRaised, ConcernResolved, StandingChanged
from shared.unit_of_work import UnitOfWorkStarter


def feed_message(
    partner: Partner, envelope: Envelope[Payload], data: dict[str, Any], key: bytes
) -> FeedMessage:
    """The event as ``partner`` receives it: its envelope, with only the fields it may see."""
    document = envelope.model_dump(mode="json", exclude={"data"})
    document["data"] = data
    return FeedMessage(
        partner_id=partner.partner_id,
        topic=partner.feed_topic,
        key=key,
        value=json.dumps(document, separators=(",", ":")).encode(),
        type=envelope.type,
        event_id=envelope.event_id,
    )


class Projector:
    """Handles every event on the public streams and on ``concerns``.

    Feeds are written before webhooks are queued; on a crash in between the event is
    consumed again and the feed may carry it twice (partners dedupe by event id), while the
    webhook queue refuses a second copy.
    """

    def __init__(
        self,
        start: UnitOfWorkStarter[PartnersUnitOfWork],
        feeds: Feeds,
        directory: PartnerDirectory,
        *,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._start = start
        self._feeds = feeds
        self._directory = directory
        self._on_queued = on_queued

    async def handle(self, envelope: Envelope[Payload], topic: str, key: bytes | None) -> int:
        """Project one event; return how many partners received it."""
        payload = envelope.data
        partners = await self._directory.active()
        data = payload.model_dump(mode="json")
        # Committed before the feeds are written, and not held while the broker answers.
        async with self._start() as uow:
            if isinstance(payload, PersonErased):
                # The stored copies first: what is queued from here on is already without them.
                await uow.erase_person(payload.person_id, envelope.occurred_at)
            # Streams are read in no order between them: an event may name someone erased since.
            named = {uuid.UUID(person) for person in people_named(data)}
            if named and await uow.erased_among(named):
                data = redacted(data)
            elif isinstance(payload, PersonProfileChanged):
                await uow.remember_place(payload.person_id, payload.neighbourhood)
            if isinstance(payload, OfferMade):
                for partner in partners:
                    if partner.helper_id == payload.helper_id:
                        # Before the feed: the partner's answer must find the offer recorded.
                        await uow.remember_offer(
                            payload.offer_id, partner.partner_id, payload.request_id
                        )
            messages = await self._messages(uow, partners, envelope, data, topic, key or b"")
        if not messages:
            return 0
        await self._feeds.publish(messages)
        hooked = {p.partner_id for p in partners if p.webhook_url}
        async with self._start() as uow:
            queued = await uow.enqueue_webhooks([m for m in messages if m.partner_id in hooked])
        if queued:
            self._on_queued()
        return len(messages)

    async def _messages(
        self,
        uow: PartnersUnitOfWork,
        partners: list[Partner],
        envelope: Envelope[Payload],
        data: dict[str, Any],
        topic: str,
        key: bytes,
    ) -> list[FeedMessage]:
        payload = envelope.data
        messages: list[FeedMessage] = []
        if topic == CONCERNS.name:
            if not isinstance(payload, ConcernRaised | ConcernResolved):
                return []
            if not any(p.safeguarding_neighbourhoods for p in partners):
                return []
            place = await uow.place_of(payload.about_id)
            for partner in partners:
                view = safeguarding_view(partner, payload, data, place)
                if view is not None:
                    messages.append(feed_message(partner, envelope, view, key))
            return messages
        if topic == STANDING.name:
            if not isinstance(payload, StandingChanged):
                return []
            if not any(STANDING.name in p.scopes.read_streams for p in partners):
                return []
            home = await uow.place_of(payload.person_id)
            for partner in partners:
                view = standing_view(partner, payload, data, home)
                if view is not None:
                    messages.append(feed_message(partner, envelope, view, key))
            return messages
        for partner in partners:
            view = view_for(partner, topic, payload, data)
            if view is not None:
                messages.append(feed_message(partner, envelope, view, key))
        return messages
