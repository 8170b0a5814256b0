"""The gateway's composition root: database, producer, outbox relay, consumers, webhooks, HTTP."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from fastapi import FastAPI

from services.partners.adapters.feeds import KafkaFeeds
from services.partners.adapters.postgres import PARTNERS_CHANNEL, WEBHOOKS_CHANNEL, unit_of_work
from services.partners.adapters.webhook_client import HttpxWebhookSender
from services.partners.domain.backoff import Backoff
from services.partners.entrypoints.consumers import (
    INBOX_GROUP,
    PROJECTOR_GROUP,
    inbox_consumer,
    projector_consumer,
)
from services.partners.entrypoints.http import create_app
from services.partners.entrypoints.http.dependencies import Context, target_policy
from services.partners.service_layer.directory import PartnerDirectory
from services.partners.service_layer.ports import PartnersUnitOfWork
from services.partners.service_layer.projector import Projector
from services.partners.service_layer.webhooks import WebhookDispatcher
from shared import clock, lifecycle
from shared.lifecycle import Http, finish_tasks
from shared.messaging import EventConsumer, Publisher, RecordConsumer
from shared.operator_access import OperatorAccess
from shared.periodic import Periodic
from shared.postgres import (
    ChannelListener,
    OutboxRelay,
    RelayBell,
    apply_migrations,
    close_pool,
    connect_pool,
    ensure_database,
)
from shared.postgres.rate_limits import RateLimiter
from shared.postgres.replay import replay_if_broker_lost
from shared.settings import Settings

log = structlog.get_logger(__name__)

MIGRATIONS = "services.partners.migrations"


#: How often rate-limit buckets with nothing left to remember are deleted.
RATE_LIMIT_SWEEP_EVERY_S = 3600.0


async def _forget_idle(limiter: RateLimiter) -> None:
    await limiter.forget_idle(clock.wall_now())


class PartnersGateway:
    """Everything the gateway runs besides the HTTP server; ``start`` and ``stop`` pair up.

    Tests build one on a fresh database with unique group ids and drive ``app()`` through
    ``httpx.ASGITransport``.

    Args:
        settings: Kith settings.
        database_url: The gateway's database; defaults to ``settings.database_for("partners")``.
        inbox_group: The inbox consumer group.
        projector_group: The projector consumer group.
        webhook_poll_s: The longest the webhook dispatcher sleeps between looks.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str | None = None,
        inbox_group: str = INBOX_GROUP,
        projector_group: str = PROJECTOR_GROUP,
        webhook_poll_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self.database_url = database_url or settings.database_for("partners")
        self._inbox_group = inbox_group
        self._projector_group = projector_group
        self._webhook_poll_s = webhook_poll_s
        self._pool: asyncpg.Pool | None = None
        # Rings the relay after a commit that wrote events, instead of a NOTIFY.
        self._bell = RelayBell()
        self._publisher: Publisher | None = None
        self._sender: HttpxWebhookSender | None = None
        self._listener: ChannelListener | None = None
        self._relay: OutboxRelay | None = None
        self._inbox: RecordConsumer | None = None
        self._projector: EventConsumer | None = None
        self._dispatcher: WebhookDispatcher | None = None
        self._directory: PartnerDirectory | None = None
        self._context: Context | None = None
        self._limit_sweep: Periodic | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pool(self) -> asyncpg.Pool:
        """The gateway's connection pool (once started)."""
        if self._pool is None:
            raise RuntimeError("the gateway is not started")
        return self._pool

    def unit_of_work(self) -> contextlib.AbstractAsyncContextManager[PartnersUnitOfWork]:
        """A unit of work on the gateway's database (once started)."""
        return unit_of_work(self.pool, self._bell)

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The background tasks: relay, consumers and webhook dispatcher."""
        return list(self._tasks)

    async def start(self) -> None:
        """Create and migrate the database, then start the producer, relay, consumers and
        webhook dispatcher."""
        settings = self.settings
        await ensure_database(self.database_url)
        self._pool = await connect_pool(self.database_url)
        await apply_migrations(self._pool, MIGRATIONS)
        self._publisher = Publisher(settings, client_id="kith-partners")
        await self._publisher.start()
        # An empty broker (the embedded one restarted) gets the gateway's history again.
        await replay_if_broker_lost(self._pool, settings)
        feeds = KafkaFeeds(settings, self._publisher)
        self._directory = PartnerDirectory(self.unit_of_work, feeds)
        self._sender = HttpxWebhookSender(
            timeout_s=settings.webhook_timeout_s,
            max_response_bytes=settings.webhook_max_response_bytes,
            policy=target_policy(settings),
        )
        self._dispatcher = WebhookDispatcher(
            self.unit_of_work,
            self._sender,
            Backoff(
                base_s=settings.webhook_backoff_base_s,
                cap_s=settings.webhook_backoff_cap_s,
                max_attempts=settings.webhook_max_attempts,
            ),
            timeout_s=settings.webhook_timeout_s,
            poll_s=self._webhook_poll_s,
        )
        listening = self._listen()
        self._relay = OutboxRelay(
            self._pool, self._publisher, poll_s=settings.outbox_poll_s, bell=self._bell
        )
        self._inbox = inbox_consumer(
            settings, self.unit_of_work, self._publisher, group_id=self._inbox_group
        )
        projector = Projector(
            self.unit_of_work, feeds, self._directory, on_queued=self._dispatcher.wake
        )
        self._projector = projector_consumer(
            settings, projector, self._publisher, group_id=self._projector_group
        )
        await self._inbox.start()
        await self._projector.start()
        limiter = RateLimiter(self._pool)
        self._limit_sweep = Periodic(
            "rate limit sweep", lambda: _forget_idle(limiter), every_s=RATE_LIMIT_SWEEP_EVERY_S
        )
        self._context = Context(
            start=self.unit_of_work,
            feeds=feeds,
            settings=settings,
            on_partners_changed=self._directory.invalidate,
            limiter=limiter,
            operators=OperatorAccess(settings),
        )
        self._tasks = [
            asyncio.create_task(self._relay.run(), name="partners-relay"),
            asyncio.create_task(self._inbox.run(), name="partners-inbox"),
            asyncio.create_task(self._projector.run(), name="partners-projector"),
            asyncio.create_task(self._dispatcher.run(), name="partners-webhooks"),
            asyncio.create_task(self._limit_sweep.run(), name="partners-rate-limit-sweep"),
            listening,
        ]

    def _listen(self) -> asyncio.Task[None]:
        """Hear other gateway processes: a partner changed, or webhooks were queued.

        The shared listener listens again after a lost connection (the database restarted);
        what was notified meanwhile went unheard, so the directory is read afresh and the
        dispatcher looks for due webhooks each time listening starts.
        """
        assert self._pool is not None
        assert self._directory is not None
        assert self._dispatcher is not None
        directory, dispatcher = self._directory, self._dispatcher

        def caught_up() -> None:
            directory.invalidate()
            dispatcher.wake()

        self._listener = ChannelListener(
            self._pool,
            {
                PARTNERS_CHANNEL: lambda _: directory.invalidate(),
                WEBHOOKS_CHANNEL: lambda _: dispatcher.wake(),
            },
            on_listen=caught_up,
        )
        return asyncio.create_task(self._listener.run(), name="partners-listener")

    def app(self) -> FastAPI:
        """The HTTP API over this gateway."""
        if self._context is None:
            raise RuntimeError("the gateway is not started")
        return create_app(self._context)

    async def ready(self) -> None:
        """Return once both consumers have their partitions."""
        assert self._inbox is not None
        assert self._projector is not None
        await self._inbox.ready.wait()
        await self._projector.ready.wait()

    async def skip_history(self) -> None:
        """Once ready, skip what is already on the inbox and the projected streams.

        For tests on a broker shared with other tests: a new group would otherwise read
        every earlier test's messages first.
        """
        assert self._inbox is not None
        assert self._projector is not None
        await self._inbox.seek_to_end()
        await self._projector.seek_to_end()

    async def stop(self) -> None:
        """Stop consuming, delivering and relaying, then close every connection."""
        if self._dispatcher is not None:
            self._dispatcher.stop()
        if self._limit_sweep is not None:
            self._limit_sweep.stop()
        if self._relay is not None:
            self._relay.stop()
        if self._listener is not None:
            self._listener.stop()
        for consumer in (self._inbox, self._projector):
            if consumer is not None:
                with contextlib.suppress(Exception):
                    await consumer.stop()
        await finish_tasks(self._tasks)
        self._tasks = []
        if self._sender is not None:
            await self._sender.close()
        if self._publisher is not None:
            await self._publisher.stop()
        if self._pool is not None:
            await close_pool(self._pool)
        self._pool = self._publisher = self._sender = self._listener = None
        self._relay = self._inbox = self._projector = self._dispatcher = None
        if self._context is not None:
            await self._context.operators.close()
        self._context = None


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the gateway until ``stop``: its runtime and uvicorn in the same loop.

    Ready once HTTP listens and both consumers have partitions (``lifecycle.serve``).
    """
    gateway = PartnersGateway(settings)

    def http() -> Http:
        config = lifecycle.server_config(
            gateway.app(), settings.http_host, settings.partners_port, lifespan="on"
        )
        return Http(lifecycle.IdleServer(config))

    address = f"http://{settings.http_host}:{settings.partners_port}"
    await lifecycle.serve(
        gateway, settings, stop, name="partners", http=http, ready_detail=f"partners {address}"
    )
