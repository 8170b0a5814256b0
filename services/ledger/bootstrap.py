"""The ledger's composition root: its database, the bookings consumer and the HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI

from services.ledger.adapters.communities import CommunityStore
from services.ledger.adapters.postgres import unit_of_work
from services.ledger.adapters.queries import LedgerQueries
from services.ledger.adapters.sessions import BookingSessions
from services.ledger.adapters.stripe import StripeProvider
from services.ledger.entrypoints.consumer import build_consumer
from services.ledger.entrypoints.http.app import create_app
from services.ledger.entrypoints.http.deps import Parts
from services.ledger.service_layer.ports import LedgerUnitOfWork
from shared.lifecycle import finish_tasks
from shared.messaging import EventConsumer, Publisher
from shared.operator_access import OperatorAccess
from shared.postgres import apply_migrations, close_pool, connect_pool, ensure_database
from shared.secrets import configured_or_generated
from shared.settings import Settings

MIGRATIONS = "services.ledger.migrations"


class LedgerService:
    """The running ledger; tests start it in-process against their own database.

    Args:
        settings: Kith settings (broker, provider, ports).
        database_url: The ledger's database; defaults to ``settings.database_for("ledger")``.
        group_id: The consumer group; tests pass a unique one.
        booking_transport: How booking is reached to check session tokens (tests: in memory).
        provider_transport: How the payment provider is reached (tests: a double at the HTTP
            edge).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str | None = None,
        group_id: str = "kith-ledger",
        consumer_name: str = "ledger",
        booking_transport: httpx.AsyncBaseTransport | None = None,
        provider_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.database_url = database_url or settings.database_for("ledger")
        self.operator_token = configured_or_generated(
            settings, settings.operator_token, "operator-token"
        )
        self._group_id = group_id
        self._consumer_name = consumer_name
        self._booking_transport = booking_transport
        self._provider_transport = provider_transport
        self._pool: asyncpg.Pool | None = None
        self._publisher: Publisher | None = None
        self._consumer: EventConsumer | None = None
        self._sessions: BookingSessions | None = None
        self._parts: Parts | None = None
        self._provider: StripeProvider | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pool(self) -> asyncpg.Pool:
        """The ledger's connection pool (once started)."""
        if self._pool is None:
            raise RuntimeError("the ledger is not started")
        return self._pool

    @property
    def parts(self) -> Parts:
        """What the API works with (once started)."""
        if self._parts is None:
            raise RuntimeError("the ledger is not started")
        return self._parts

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The background tasks: the consumer."""
        return list(self._tasks)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[LedgerUnitOfWork]:
        """One transaction over the ledger's database."""
        async with unit_of_work(self.pool) as uow:
            yield uow

    def app(self) -> FastAPI:
        """The HTTP API."""
        return create_app(
            self.parts,
            # A receipt photo travels base64-encoded inside a JSON body.
            max_body_bytes=self.settings.ledger_receipt_max_bytes * 4 // 3 + 16_384,
            receipt_max_bytes=self.settings.ledger_receipt_max_bytes,
            provider=self._provider,
            webhook_secret=(
                None
                if self.settings.ledger_provider_webhook_secret is None
                else self.settings.ledger_provider_webhook_secret.get_secret_value()
            ),
            webhook_tolerance_s=self.settings.ledger_webhook_tolerance_s,
        )

    async def start(self, *, consume: bool = True) -> None:
        """Create and migrate the database, then start the consumer (unless ``consume`` is
        False: the API alone)."""
        await ensure_database(self.database_url)
        self._pool = await connect_pool(self.database_url)
        await apply_migrations(self._pool, MIGRATIONS)
        self._sessions = BookingSessions(
            self.settings.booking_base_url(), transport=self._booking_transport
        )
        key = self.settings.ledger_provider_secret_key
        if key is not None:
            self._provider = StripeProvider(
                self.settings.ledger_provider_url,
                key.get_secret_value(),
                transport=self._provider_transport,
            )
        self._parts = Parts(
            pool=self._pool,
            start=self.unit_of_work,
            queries=LedgerQueries(self._pool),
            communities=CommunityStore(self._pool),
            sessions=self._sessions,
            operators=OperatorAccess(
                self.settings,
                transport=self._booking_transport,
                service_key=self.operator_token,
            ),
        )
        if not consume:
            return
        self._publisher = Publisher(self.settings, client_id="kith-ledger")
        await self._publisher.start()
        self._consumer = build_consumer(
            self.settings,
            start=self.unit_of_work,
            dead_letters=self._publisher,
            name=self._consumer_name,
            group_id=self._group_id,
        )
        await self._consumer.start()
        self._tasks = [asyncio.create_task(self._consumer.run(), name="ledger-consumer")]

    async def ready(self) -> None:
        """Return once the consumer has been assigned its partitions."""
        if self._consumer is None:
            raise RuntimeError("the ledger is not consuming")
        await self._consumer.ready.wait()

    async def stop(self) -> None:
        """Stop consuming, finish what is in hand, and close everything."""
        if self._consumer is not None:
            await self._consumer.stop()
        await finish_tasks(self._tasks)
        self._tasks = []
        if self._sessions is not None:
            await self._sessions.close()
        if self._parts is not None:
            await self._parts.operators.close()
        if self._provider is not None:
            await self._provider.close()
        if self._publisher is not None:
            await self._publisher.stop()
        if self._pool is not None:
            await close_pool(self._pool)
        self._pool = self._publisher = self._consumer = self._sessions = self._parts = None
        self._provider = None
