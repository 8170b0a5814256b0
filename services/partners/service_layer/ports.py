"""The ports the gateway's use cases work through; adapters implement them."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.partners.domain.partner import Partner
from services.partners.service_layer.records import Attempt, FeedMessage, Rejection, WebhookJob
from shared.contracts import Envelope


class PartnersUnitOfWork(Protocol):
    """The gateway's own state: everything one use case may read or change, committed
    together or not at all (opened by a
    ``shared.unit_of_work.UnitOfWorkStarter[PartnersUnitOfWork]``). Writes that publish
    events write them to the outbox in the same transaction.

    Nothing that waits on another system (a feed's topic, a partner's webhook receiver) is
    done inside one: a transaction holds its locks until it ends.
    """

    async def create_partner(
        self, partner: Partner, key_hash: str, events: Sequence[Envelope[Any]]
    ) -> None:
        """Insert a partner with the events announcing it."""
        ...

    async def save_partner(self, partner: Partner, events: Sequence[Envelope[Any]]) -> None:
        """Update a partner with the events its change causes."""
        ...

    async def partner(self, partner_id: uuid.UUID) -> Partner | None:
        """One partner, active or not."""
        ...

    async def partners(self, *, active_only: bool = False) -> list[Partner]:
        """Every partner."""
        ...

    async def partner_by_key_hash(self, key_hash: str) -> tuple[Partner, str] | None:
        """The partner with this key hash, and the stored hash."""
        ...

    async def partner_key_hash(self, partner_id: uuid.UUID) -> tuple[Partner, str] | None:
        """The partner with this id, and the stored hash of its key."""
        ...

    async def accept(
        self, partner_id: uuid.UUID, partner_event_id: uuid.UUID, event: Envelope[Any], topic: str
    ) -> uuid.UUID:
        """Publish ``event`` for a partner's message once; the id it became."""
        ...

    async def reject(self, rejection: Rejection) -> None:
        """Remember a refused message."""
        ...

    async def rejections(self, partner_id: uuid.UUID, limit: int) -> list[Rejection]:
        """A partner's refused messages, newest first."""
        ...

    async def offer_made_to(self, offer_id: uuid.UUID, partner_id: uuid.UUID) -> bool:
        """Whether the offer was made to the partner's service."""
        ...

    async def remember_place(self, person_id: uuid.UUID, neighbourhood: str) -> None:
        """Where a person lives, by neighbourhood."""
        ...

    async def place_of(self, person_id: uuid.UUID) -> str | None:
        """A person's neighbourhood, if known."""
        ...

    async def remember_offer(
        self, offer_id: uuid.UUID, partner_id: uuid.UUID, request_id: uuid.UUID
    ) -> None:
        """Note an offer made to a partner's service."""
        ...

    async def enqueue_webhooks(self, messages: Sequence[FeedMessage]) -> int:
        """Queue webhook deliveries, once each."""
        ...

    async def erased_among(self, people: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these people's accounts were deleted."""
        ...

    async def erase_person(self, person_id: uuid.UUID, erased_at: datetime) -> int:
        """Forget the person's place and take names and texts out of the stored webhook
        bodies that name them; return how many changed. Idempotent."""
        ...

    async def rotate_webhook_secret(
        self, partner_id: uuid.UUID, secret: str, previous_until: datetime
    ) -> bool:
        """Sign with ``secret`` from now on and with the current one too until
        ``previous_until``; False for an unknown partner."""
        ...

    async def claim_webhooks(self, limit: int, lease: timedelta, now: datetime) -> list[WebhookJob]:
        """Lease deliveries due at ``now``, the oldest pending one per partner and key."""
        ...

    async def finish_attempt(
        self,
        job: WebhookJob,
        *,
        outcome: str,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
    ) -> None:
        """Record an attempt and move its delivery on."""
        ...

    async def next_webhook_due(self) -> datetime | None:
        """When the earliest pending delivery is due."""
        ...

    async def attempts(self, partner_id: uuid.UUID, limit: int) -> list[Attempt]:
        """A partner's delivery log, newest first."""
        ...


class Feeds(Protocol):
    """The partners' feed topics."""

    async def ensure(self, topics: Sequence[str]) -> None:
        """Create the feed topics that do not exist yet."""
        ...

    async def publish(self, messages: Sequence[FeedMessage]) -> None:
        """Write messages to their feed topics, in order; return once acknowledged."""
        ...


class WebhookSender(Protocol):
    """Posts one signed webhook request."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The HTTP status code; raises ``OSError``/``TimeoutError``-like errors on failure."""
        ...
