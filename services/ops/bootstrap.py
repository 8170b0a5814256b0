"""The console's composition root: the feed from every stream, the console, the HTTP server."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from fastapi import FastAPI

from services.ops.adapters.feed import Feed
from services.ops.adapters.notify_figures import EVERY_S, NotifyFigures
from services.ops.adapters.operator_api import OperatorApi
from services.ops.entrypoints.http.app import create_app
from services.ops.service_layer.console import HISTORY, Console
from shared import clock, lifecycle
from shared.lifecycle import Http
from shared.periodic import Periodic
from shared.postgres import apply_migrations, close_pool, connect_pool, ensure_database
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings

log = structlog.get_logger(__name__)

#: How often rate-limit buckets with nothing left to remember are deleted.
RATE_LIMIT_SWEEP_EVERY_S = 3600.0


async def _forget_idle(limiter: RateLimiter) -> None:
    await limiter.forget_idle(clock.wall_now())


class OpsRuntime:
    """The feed and the console; tests start one in-process and serve ``app`` themselves.

    Args:
        settings: Kith settings (broker, operator token).
        history: How many recent events the console keeps for browsers.
    """

    def __init__(
        self, settings: Settings, *, history: int = HISTORY, database_url: str | None = None
    ) -> None:
        self.settings = settings
        self.database_url = database_url or settings.database_for("ops")
        self.console = Console(history=history)
        self.feed = Feed(settings, self.console)
        self.api = OperatorApi(settings.booking_base_url())
        self._task: asyncio.Task[None] | None = None
        self._pool: asyncpg.Pool | None = None
        self._limit_sweep: Periodic | None = None
        self._sweeping: asyncio.Task[None] | None = None
        token = settings.operator_token.get_secret_value() if settings.operator_token else ""
        self.notify = NotifyFigures(
            settings.notify_url or f"http://{settings.http_host}:{settings.notify_port}", token
        )
        self._notify_poll = Periodic("notify figures", self._refresh_notify, every_s=EVERY_S)
        self._notify_polling: asyncio.Task[None] | None = None

    async def _refresh_notify(self) -> None:
        await self.notify.refresh()

    async def start(self) -> None:
        """Open the console's database (its rate limits, shared by every console process),
        then take every partition and start feeding the console."""
        await ensure_database(self.database_url)
        await self.api.start()
        self._pool = await connect_pool(self.database_url, min_size=1, max_size=4)
        await apply_migrations(self._pool, "services.ops.migrations")
        limiter = RateLimiter(self._pool)
        self._limit_sweep = Periodic(
            "rate limit sweep", lambda: _forget_idle(limiter), every_s=RATE_LIMIT_SWEEP_EVERY_S
        )
        self._sweeping = asyncio.create_task(self._limit_sweep.run(), name="ops-limit-sweep")
        self._notify_polling = asyncio.create_task(self._notify_poll.run(), name="ops-notify")
        await self.feed.start()
        self._task = asyncio.create_task(self.feed.run(), name="ops-feed")

    @property
    def limiter(self) -> RateLimiter:
        """Rate limits in the console's database."""
        if self._pool is None:
            raise RuntimeError("OpsRuntime.start() has not run")
        return RateLimiter(self._pool)

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The feed (if it fails, the console is blind), the rate-limit sweep and notify's
        figures."""
        tasks = (self._task, self._sweeping, self._notify_polling)
        return [task for task in tasks if task is not None]

    async def ready(self) -> None:
        """Return once the feed has every partition."""
        await self.feed.ready.wait()

    def app(self) -> FastAPI:
        """The console's HTTP app."""
        return create_app(
            self.console,
            self.settings,
            ready=self.feed.ready,
            limiter=self.limiter,
            notify=self.notify,
            api=self.api,
        )

    async def stop(self) -> None:
        """End every open event stream, then stop reading."""
        self.console.close()
        await self.feed.stop()
        if self._limit_sweep is not None:
            self._limit_sweep.stop()
        self._notify_poll.stop()
        for task in (self._task, self._sweeping, self._notify_polling):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=5)
        await self.notify.close()
        if self._pool is not None:
            await close_pool(self._pool)
            self._pool = None
        await self.api.close()


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the console until ``stop`` is set; mark it ready once it listens and reads."""
    runtime = OpsRuntime(settings)
    url = f"http://{settings.http_host}:{settings.ops_port}/ops"

    def http() -> Http:
        server = lifecycle.asgi_server(runtime.app(), settings.http_host, settings.ops_port)
        # Open event streams end first, so the server stops at once.
        return Http(server, before_exit=runtime.console.close)

    await lifecycle.serve(runtime, settings, stop, name="ops", http=http, ready_detail=f"ops {url}")
