"""A registered partner: who it is, what it may do, and the service it may run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from services.partners.domain.scopes import Scopes
from shared.contracts.partners import PartnerServiceChanged
from shared.contracts.skills import Skill
from shared.contracts.topics import partner_feed


@dataclass(frozen=True, slots=True)
class Service:
    """A class of requests the partner takes itself, answering offers as a helper would.

    ``helper_id`` is the identity matching offers those requests to; it stays the same for
    the partner's whole life, so bookings made under it remain the partner's.
    """

    helper_id: uuid.UUID
    skills: tuple[Skill, ...]
    neighbourhoods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Partner:
    """One partner, as the gateway knows it (never with its API key, only the key's hash)."""

    partner_id: uuid.UUID
    name: str
    scopes: Scopes
    webhook_secret: str
    key_hint: str
    active: bool = True
    service: Service | None = None
    safeguarding_neighbourhoods: frozenset[str] = field(default_factory=frozenset)
    webhook_url: str | None = None
    created_at: datetime | None = None

    @property
    def feed_topic(self) -> str:
        """The topic this partner reads."""
        return partner_feed(self.partner_id)

    @property
    def helper_id(self) -> uuid.UUID | None:
        """The identity its service receives offers under, if it runs one."""
        return None if self.service is None else self.service.helper_id

    def service_changed(self, *, active: bool | None = None) -> PartnerServiceChanged | None:
        """The event telling matching and booking about its service (None if it has none)."""
        if self.service is None:
            return None
        return PartnerServiceChanged(
            partner_id=self.partner_id,
            name=self.name,
            helper_id=self.service.helper_id,
            skills=list(self.service.skills),
            neighbourhoods=list(self.service.neighbourhoods),
            active=self.active if active is None else active,
        )
