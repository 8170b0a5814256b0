"""Trust's composition root: its database, publisher, outbox relay, consumer and sweep."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import asyncpg
import structlog

from services.trust.adapters.postgres import unit_of_work
from services.trust.domain.relationship import Rules
from services.trust.entrypoints.consumer import GROUP_ID, build_consumer
from services.trust.entrypoints.sweep import ExpirySweep, PauseSweep
from services.trust.service_layer.handlers import Policy
from services.trust.service_layer.ports import TrustUnitOfWork
from shared.contracts.skills import VettingStep
from shared.lifecycle import finish_tasks
from shared.messaging import EventConsumer, Publisher
from shared.postgres import (
    OutboxRelay,
    RelayBell,
    apply_migrations,
    close_pool,
    connect_pool,
    ensure_database,
)
from shared.postgres.replay import replay_if_broker_lost
from shared.settings import Settings

log = structlog.get_logger(__name__)

MIGRATIONS = "services.trust.migrations"


def policy_from(settings: Settings) -> Policy:
    """The rules trust applies, from settings (``vetting_valid_s`` overrides every step that
    lapses: identity never does)."""

    def days(value: int) -> timedelta:
        if settings.vetting_valid_s is not None:
            return timedelta(seconds=settings.vetting_valid_s)
        return timedelta(days=value)

    return Policy(
        rules=Rules(
            regular_after_visits=settings.regular_after_visits,
            pause_after_days=settings.relationship_pause_after_days,
        ),
        vetting_validity={
            VettingStep.IDENTITY: None,
            VettingStep.REFERENCES: days(settings.vetting_references_valid_days),
            VettingStep.INTERVIEW: days(settings.vetting_interview_valid_days),
            VettingStep.BACKGROUND_CHECK: days(settings.vetting_background_check_valid_days),
        },
    )


class TrustService:
    """The running trust service; tests start it in-process against their own database.

    Args:
        settings: Kith settings (broker address, rules).
        database_url: Trust's database; defaults to ``settings.database_for("trust")``.
        group_id: The consumer group; tests pass a unique one.
        consumer_name: Names the consumer in dead letters and keys its inbox.
        sweep_every_s: How often the pause sweep runs (the expiry sweep also wakes at each
            expiry).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str | None = None,
        group_id: str = GROUP_ID,
        consumer_name: str = "trust",
        sweep_every_s: float = 60.0,
    ) -> None:
        self.settings = settings
        self.database_url = database_url or settings.database_for("trust")
        self.policy = policy_from(settings)
        self._group_id = group_id
        self._consumer_name = consumer_name
        self._sweep_every_s = sweep_every_s
        self._pool: asyncpg.Pool | None = None
        # Rings the relay after a commit that wrote events, instead of a NOTIFY.
        self._bell = RelayBell()
        self._publisher: Publisher | None = None
        self._consumer: EventConsumer | None = None
        self._relay: OutboxRelay | None = None
        self._sweep: PauseSweep | None = None
        self._expiry: ExpirySweep | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pool(self) -> asyncpg.Pool:
        """Trust's connection pool (once started)."""
        if self._pool is None:
            raise RuntimeError("trust is not started")
        return self._pool

    @property
    def sweep(self) -> PauseSweep:
        """The pause sweep (once started)."""
        if self._sweep is None:
            raise RuntimeError("trust is not started")
        return self._sweep

    @property
    def expiry_sweep(self) -> ExpirySweep:
        """The vetting expiry sweep (once started)."""
        if self._expiry is None:
            raise RuntimeError("trust is not started")
        return self._expiry

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The background tasks: relay, consumer and sweeps."""
        return list(self._tasks)

    def unit_of_work(self) -> AbstractAsyncContextManager[TrustUnitOfWork]:
        """A unit of work on trust's database."""
        return unit_of_work(self.pool, self._bell)

    async def replay(self) -> int:
        """Send the outbox again if the broker lost what was published (it restarted empty)."""
        assert self._pool is not None
        return await replay_if_broker_lost(self._pool, self.settings)

    async def start(self) -> None:
        """Create and migrate the database, then start the relay, consumer and sweep."""
        await ensure_database(self.database_url)
        self._pool = await connect_pool(self.database_url)
        await apply_migrations(self._pool, MIGRATIONS)
        self._publisher = Publisher(self.settings, client_id="kith-trust")
        await self._publisher.start()
        # An empty broker (the embedded one restarted) gets trust's history again.
        await self.replay()
        self._relay = OutboxRelay(
            self._pool, self._publisher, poll_s=self.settings.outbox_poll_s, bell=self._bell
        )
        self._consumer = build_consumer(
            self.settings,
            start=self.unit_of_work,
            policy=self.policy,
            dead_letters=self._publisher,
            name=self._consumer_name,
            group_id=self._group_id,
        )
        await self._consumer.start()
        self._sweep = PauseSweep(self.unit_of_work, self.policy.rules, every_s=self._sweep_every_s)
        self._expiry = ExpirySweep(self.unit_of_work, self.policy, every_s=self._sweep_every_s)
        self._tasks = [
            asyncio.create_task(self._relay.run(), name="trust-relay"),
            asyncio.create_task(self._consumer.run(), name="trust-consumer"),
            asyncio.create_task(self._sweep.run(), name="trust-sweep"),
            asyncio.create_task(self._expiry.run(), name="trust-expiry-sweep"),
        ]

    async def skip_history(self) -> None:
        """Once ready, skip what is already on trust's streams.

        For tests on a broker shared with other tests: a new group would otherwise read
        every earlier test's events first.
        """
        assert self._consumer is not None
        await self._consumer.seek_to_end()

    async def ready(self) -> None:
        """Return once the consumer has been assigned its partitions."""
        if self._consumer is None:
            raise RuntimeError("trust is not started")
        await self._consumer.ready.wait()

    async def stop(self) -> None:
        """Stop consuming, finish the batch in hand, and close everything."""
        if self._sweep is not None:
            self._sweep.stop()
        if self._expiry is not None:
            self._expiry.stop()
        if self._relay is not None:
            self._relay.stop()
        if self._consumer is not None:
            await self._consumer.stop()
        await finish_tasks(self._tasks)
        self._tasks = []
        if self._publisher is not None:
            await self._publisher.stop()
        if self._pool is not None:
            await close_pool(self._pool)
        self._pool = self._publisher = self._consumer = self._relay = None
        self._sweep = self._expiry = None
