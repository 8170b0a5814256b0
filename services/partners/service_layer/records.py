"""Plain records the gateway's use cases and its store exchange."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Rejection:
    """A partner's message the gateway refused, and why (what the partner reads back)."""

    partner_id: uuid.UUID
    reason: str
    source: str
    partner_event_id: uuid.UUID | None = None
    type: str | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One event as one partner receives it, ready for its feed topic and its webhook."""

    partner_id: uuid.UUID
    topic: str
    key: bytes
    value: bytes
    type: str
    event_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class WebhookJob:
    """A webhook delivery claimed for one attempt."""

    delivery_id: int
    partner_id: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    """The partner's webhook secret, and the one before it while a rotation lasts."""
    key: str
    event_id: uuid.UUID
    type: str
    body: bytes
    attempt: int


@dataclass(frozen=True, slots=True)
class Attempt:
    """One webhook attempt, as the delivery log shows it."""

    delivery_id: int
    event_id: uuid.UUID
    attempt: int
    outcome: str
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    attempted_at: datetime
