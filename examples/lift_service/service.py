"""The lift service's logic: accept each lift offer made to it, refer people it is told of.

It uses only the partner SDK (``kith_partner``) and Kith's published contracts; it runs as
its own process and shares nothing with Kith but the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kith_partner import FeedEvent, PartnerClient
from shared.contracts.bookings import BookingConfirmed
from shared.contracts.partners import Consent, ConsentMethod, PartnerOfferAnswered, PersonReferred
from shared.contracts.requests import OfferMade
from shared.contracts.skills import Skill
from shared.geo import cell_of, neighbourhood_of_cell

log = logging.getLogger("lift_service")


@dataclass(frozen=True)
class Referral:
    """Someone the service's staff spoke to who needs a lift and agreed to be referred."""

    first_name: str
    lat: float
    lng: float
    reference: str
    days_ahead: int = 2


class LiftService:
    """Answers the offers Kith routes to the service's identity, and refers people.

    Args:
        client: A started ``PartnerClient``.
        helper_id: The identity Kith routes the service's offers to (from ``/v1/me``); None
            accepts every whole offer in the feed, which only its own offers are.
        accept: Whether to accept offers (a service that is full would decline).
    """

    def __init__(
        self, client: PartnerClient, helper_id: uuid.UUID | None, *, accept: bool = True
    ) -> None:
        self._client = client
        self._helper_id = helper_id
        self._accept = accept
        self.answered: list[uuid.UUID] = []
        self.booked: list[uuid.UUID] = []

    async def refer(self, person: Referral) -> PersonReferred:
        """Refer one person for a one-hour lift ``days_ahead`` days from now, on the hour."""
        cell = cell_of(person.lat, person.lng)
        starts_at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(
            days=person.days_ahead
        )
        referral = PersonReferred(
            referral_id=uuid.uuid4(),
            partner_id=self._client.partner_id,
            partner_reference=person.reference,
            first_name=person.first_name,
            neighbourhood=neighbourhood_of_cell(cell),
            cell=cell,
            skill=Skill.LIFT,
            starts_at=starts_at,
            hours=1,
            consent=Consent(
                given_at=datetime.now(UTC), method=ConsentMethod.VERBAL, recorded_by="front desk"
            ),
        )
        envelope = await self._client.send(referral)
        log.info(
            "referred %s (%s) for a lift at %s: event %s",
            person.first_name,
            person.reference,
            starts_at.isoformat(),
            envelope.event_id,
        )
        return referral

    async def handle(self, event: FeedEvent) -> None:
        """React to one event of the feed."""
        payload = event.payload()
        if isinstance(payload, OfferMade) and self._mine(payload.helper_id):
            answer = PartnerOfferAnswered(
                partner_id=self._client.partner_id,
                offer_id=payload.offer_id,
                request_id=payload.request_id,
                accepted=self._accept,
            )
            # The offer's event id makes the answer's id: a redelivered offer is answered
            # with the same event, which Kith applies once.
            await self._client.send(answer, event_id=uuid.uuid5(event.event_id, "answer"))
            self.answered.append(payload.offer_id)
            log.info(
                "%s offer %s (%s at %s)",
                "accepted" if self._accept else "declined",
                payload.offer_id,
                payload.skill,
                payload.starts_at.isoformat(),
            )
        elif isinstance(payload, BookingConfirmed) and self._mine(payload.helper_id):
            self.booked.append(payload.booking_id)
            log.info("booked %s at %s", payload.booking_id, payload.starts_at.isoformat())

    def _mine(self, helper_id: uuid.UUID) -> bool:
        return self._helper_id is None or helper_id == self._helper_id

    async def run(self, stop: asyncio.Event) -> None:
        """Handle the feed until ``stop`` is set."""
        feed = self._client.feed()
        try:
            while not stop.is_set():
                next_event = asyncio.ensure_future(anext(feed))
                stopping = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait(
                    {next_event, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
                stopping.cancel()
                if next_event not in done:
                    # Cancelling stops the feed's consumer inside the generator; wait for it
                    # before closing the generator.
                    next_event.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await next_event
                    break
                await self.handle(next_event.result())
        finally:
            await feed.aclose()
