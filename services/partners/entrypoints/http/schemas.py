"""The JSON bodies of the gateway's API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from services.partners.domain.partner import Partner
from services.partners.domain.scopes import PUBLIC_TOPICS
from services.partners.service_layer.records import Attempt, Rejection
from shared.contracts.registry import EVENTS_BY_TOPIC
from shared.contracts.skills import Skill
from shared.contracts.types import Neighbourhood

#: A neighbourhood as a client sends it: the contracts' pattern, with its length stated so the
#: OpenAPI document shows the bound (an H3 cell is 15 hex digits).
NeighbourhoodIn = Annotated[Neighbourhood, Field(max_length=15)]
#: A topic name, event type or payload field name in a partner's scopes.
ScopeName = Annotated[str, Field(min_length=1, max_length=100)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScopesIn(_In):
    """What a partner may read, see and send."""

    read_streams: list[ScopeName] = Field(
        default_factory=list,
        max_length=20,
        description="Public topic names (e.g. kith.requests.v1). Private streams are refused.",
    )
    fields: dict[ScopeName, Annotated[list[ScopeName], Field(max_length=100)]] = Field(
        default_factory=dict,
        max_length=50,
        description="Per event type, the payload fields it sees. A type left out gets its "
        "non-personal fields. Address, phone, notes and check-in answers are never granted.",
    )
    send: list[ScopeName] = Field(
        default_factory=list,
        max_length=10,
        description="Event types it may send: partner.person_referred, "
        "partner.offer_answered, vetting.step_recorded.",
    )


class ServiceIn(_In):
    """A class of requests the partner takes itself."""

    skills: list[Skill] = Field(min_length=1, max_length=len(Skill))
    neighbourhoods: list[NeighbourhoodIn] = Field(min_length=1, max_length=500)


class PartnerIn(_In):
    """A partner to register."""

    name: str = Field(min_length=1, max_length=120)
    scopes: ScopesIn = Field(default_factory=ScopesIn)
    service: ServiceIn | None = None
    safeguarding_neighbourhoods: list[NeighbourhoodIn] = Field(
        default_factory=list,
        max_length=500,
        description="Where this partner is the safeguarding contact: it receives concerns "
        "about people living there (never who reported them).",
    )
    webhook_url: HttpUrl | None = None


class PartnerPatch(_In):
    """Changes to a partner; a field left out stays as it is, ``null`` removes it."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    scopes: ScopesIn | None = None
    service: ServiceIn | None = None
    safeguarding_neighbourhoods: list[NeighbourhoodIn] | None = Field(default=None, max_length=500)
    webhook_url: HttpUrl | None = None


class ScopesOut(BaseModel):
    """The scopes granted, with the fields the partner sees of each event on its streams."""

    read_streams: list[str]
    fields: dict[str, list[str]]
    send: list[str]


class ServiceOut(BaseModel):
    """The partner's service and the identity it receives offers under."""

    helper_id: uuid.UUID
    skills: list[Skill]
    neighbourhoods: list[str]


class PartnerOut(BaseModel):
    """A partner, without its key or secret."""

    partner_id: uuid.UUID
    name: str
    active: bool
    key_hint: str
    feed_topic: str
    scopes: ScopesOut
    service: ServiceOut | None
    safeguarding_neighbourhoods: list[str]
    webhook_url: str | None
    created_at: datetime | None

    @classmethod
    def of(cls, partner: Partner) -> PartnerOut:
        """The API view of a partner."""
        scopes = partner.scopes
        types = [
            payload.TYPE
            for name in sorted(scopes.read_streams)
            for payload in EVENTS_BY_TOPIC.get(PUBLIC_TOPICS[name], ())
        ]
        service = partner.service
        return cls(
            partner_id=partner.partner_id,
            name=partner.name,
            active=partner.active,
            key_hint=partner.key_hint,
            feed_topic=partner.feed_topic,
            scopes=ScopesOut(
                read_streams=sorted(scopes.read_streams),
                fields={kind: sorted(scopes.visible_fields(kind)) for kind in types},
                send=sorted(scopes.send),
            ),
            service=None
            if service is None
            else ServiceOut(
                helper_id=service.helper_id,
                skills=list(service.skills),
                neighbourhoods=list(service.neighbourhoods),
            ),
            safeguarding_neighbourhoods=sorted(partner.safeguarding_neighbourhoods),
            webhook_url=partner.webhook_url,
            created_at=partner.created_at,
        )


class RegistrationOut(PartnerOut):
    """A new partner, with its API key and webhook secret: shown this once, never again."""

    api_key: str = Field(
        description="Send as `Authorization: Bearer`; on Kafka, sign with its SHA-256"
        " (`kith-partner-signature`)."
    )
    webhook_secret: str = Field(
        description="Verifies the `webhook-signature` of each webhook (Standard Webhooks)."
    )


class AcceptedOut(BaseModel):
    """The event a partner's message became."""

    event_id: uuid.UUID
    topic: str


class RejectionOut(BaseModel):
    """A message the gateway refused, and why."""

    reason: str
    source: str
    event_id: uuid.UUID | None
    type: str | None
    partition: int | None
    offset: int | None
    received_at: datetime | None

    @classmethod
    def of(cls, rejection: Rejection) -> RejectionOut:
        """The API view of a rejection (the partner's own event id, not the gateway's)."""
        return cls(
            reason=rejection.reason,
            source=rejection.source,
            event_id=rejection.partner_event_id,
            type=rejection.type,
            partition=rejection.partition,
            offset=rejection.offset,
            received_at=rejection.received_at,
        )


class AttemptOut(BaseModel):
    """One webhook attempt."""

    delivery_id: int
    event_id: uuid.UUID
    attempt: int
    outcome: str = Field(description="delivered, retrying or abandoned")
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    attempted_at: datetime

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptOut:
        """The API view of an attempt."""
        return cls(**{name: getattr(attempt, name) for name in cls.model_fields})


class WebhookSecretOut(BaseModel):
    """A new webhook secret: shown this once, never again."""

    webhook_secret: str = Field(description="Verifies the `webhook-signature` of each webhook.")
    previous_valid_until: datetime = Field(
        description="Until then each webhook is signed with the previous secret as well."
    )
