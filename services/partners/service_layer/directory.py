"""The active partners, kept in memory for the projector and reloaded when they change."""

from __future__ import annotations

import time

from services.partners.domain.partner import Partner
from services.partners.service_layer.ports import Feeds, PartnersUnitOfWork
from shared.unit_of_work import UnitOfWorkStarter


class PartnerDirectory:
    """Active partners, reloaded after ``invalidate`` (a NOTIFY, or a change made here) or
    after ``max_age_s`` as a safety net for a missed notification."""

    def __init__(
        self,
        start: UnitOfWorkStarter[PartnersUnitOfWork],
        feeds: Feeds,
        *,
        max_age_s: float = 5.0,
    ) -> None:
        self._start = start
        self._feeds = feeds
        self._max_age_s = max_age_s
        self._partners: list[Partner] = []
        self._loaded_at: float | None = None
        self._feeds_ensured: set[str] = set()

    def invalidate(self) -> None:
        """Reload before the next use."""
        self._loaded_at = None

    async def active(self) -> list[Partner]:
        """The active partners, fresh enough."""
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at > self._max_age_s:
            # Mark first: an invalidation that arrives during the load forces another one.
            self._loaded_at = now
            async with self._start() as uow:
                partners = await uow.partners(active_only=True)
            missing = [p.feed_topic for p in partners if p.feed_topic not in self._feeds_ensured]
            if missing:
                # A partner registered by another process (or a broker that restarted empty).
                await self._feeds.ensure(missing)
                self._feeds_ensured.update(missing)
            self._partners = partners
        return self._partners
