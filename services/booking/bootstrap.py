"""The composition root: database, migrations, publisher, outbox relay, consumer, HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import asyncpg
import structlog
from fastapi import FastAPI

from services.booking.adapters.notices import NOTICE_CHANNEL, NoticeBoard
from services.booking.adapters.passwords import Argon2Passwords, hasher_for
from services.booking.adapters.replay import SETTLED_REQUESTS
from services.booking.adapters.session_cache import SESSIONS_CHANNEL, SessionCache
from services.booking.adapters.unit_of_work import PostgresUnitOfWork
from services.booking.domain.credentials import Passwords
from services.booking.entrypoints.consumers import GROUP_ID, make_consumer
from services.booking.entrypoints.http import create_app
from services.booking.service_layer import accounts, series, visit_sweep
from services.booking.service_layer.ports import UnitOfWork
from shared import clock, lifecycle
from shared.contracts import utc_now
from shared.lifecycle import Http
from shared.messaging import EventConsumer, Publisher
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
from shared.secrets import idempotency_key_secret
from shared.settings import Settings

log = structlog.get_logger(__name__)

#: Connections the kernel queues before uvicorn accepts them: enough for a burst of clients.
_BACKLOG = 2048
#: How often expired sessions and idempotency records are deleted. Both are refused from the
#: moment they expire; the sweep only keeps the tables from growing.
SESSION_SWEEP_EVERY_S = 3600.0
#: How often visits are looked at for closing: a minute of clock time is well inside every
#: window (the shortest, a no-show, is `no_show_after_s`, at least a minute).
VISIT_SWEEP_EVERY_S = 60.0
#: How often series are rolled forward (by the clock: moving it wakes the sweep). Occurrences
#: are made weeks ahead, so an hour late is never late.
SERIES_SWEEP_EVERY_S = 3600.0


async def _keep_session(_: asyncpg.Connection) -> None:
    """Return a connection to the pool without asyncpg's default reset query.

    The default costs a round trip on every release (``RESET ALL``, ``UNLISTEN *``, advisory
    unlock, ``CLOSE ALL``) to undo session state booking never leaves: it sets no session
    variables, opens no cursors, takes only transaction-scoped advisory locks, and the
    outbox relay removes its listener itself. asyncpg still rolls back an open transaction
    and drops listener callbacks before calling this.
    """


async def open_pool(database_url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    """Booking's connection pool (``kith bench booking --in-process`` opens the same)."""
    return await connect_pool(
        database_url, min_size=min_size, max_size=max_size, reset=_keep_session
    )


class BookingRuntime:
    """Everything booking runs besides HTTP; ``start`` and ``stop`` pair up.

    Tests build one on a fresh database and a unique group id, and drive ``app`` through
    ``httpx.ASGITransport`` (which does not run the lifespan, hence the explicit calls).
    """

    def __init__(
        self, settings: Settings, *, database_url: str | None = None, group_id: str = GROUP_ID
    ) -> None:
        self.settings = settings
        self.database_url = database_url or settings.database_for("booking")
        self.group_id = group_id
        self.pool: asyncpg.Pool | None = None
        self.publisher: Publisher | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._uow: PostgresUnitOfWork | None = None
        self._notices = NoticeBoard()
        self._sessions = SessionCache()
        self._listener: ChannelListener | None = None
        self._session_sweep: Periodic | None = None
        self._visit_sweep: Periodic | None = None
        self.passwords: Passwords = Argon2Passwords(hasher_for(settings))
        self._idempotency_secret = idempotency_key_secret(settings)
        self._series_sweep: Periodic | None = None
        self._warming: asyncio.Task[object] | None = None

    @property
    def limiter(self) -> RateLimiter:
        """Rate limits in booking's database (shared by every booking process)."""
        if self.pool is None:
            raise RuntimeError("BookingRuntime.start() has not run")
        return RateLimiter(self.pool)

    @property
    def uow(self) -> UnitOfWork:
        """The unit of work on the started pool."""
        if self._uow is None:
            raise RuntimeError("BookingRuntime.start() has not run")
        return self._uow

    async def start(self) -> None:
        """Open the database, migrate, connect to the broker, start the relay, and set the
        consumer joining its group in the background (``ready`` does not wait for it)."""
        await ensure_database(self.database_url)
        self.pool = await open_pool(self.database_url)
        await apply_migrations(self.pool, "services.booking.migrations")
        # The relay below is rung by this process's commits instead of by NOTIFY.
        self._bell = RelayBell()
        self._uow = PostgresUnitOfWork(self.pool, self._bell)
        # Makes the dummy hash an unknown email is checked against now, so even the first
        # such sign-in takes as long as a wrong password: in its worker thread, beside the
        # rest of the start (``ready`` waits for it).
        self._warming = asyncio.create_task(self.passwords.check("", None))
        self.publisher = Publisher(self.settings, client_id="booking")
        await self.publisher.start()
        # An empty broker (the embedded one restarted) gets booking's history again.
        await self.replay()
        self.relay = OutboxRelay(
            self.pool, self.publisher, poll_s=self.settings.outbox_poll_s, bell=self._bell
        )
        # The relay starts before the consumer joins its group: after a crash the join waits
        # for the dead process's session to time out, and committed events should not.
        self._tasks = [asyncio.create_task(self.relay.run(), name="booking-outbox")]
        # One connection hears the notices for clients' streams and other processes'
        # sign-outs; after a loss, tokens remembered meanwhile may have been signed out.
        self._listener = ChannelListener(
            self.pool,
            {NOTICE_CHANNEL: self._notices.deliver, SESSIONS_CHANNEL: self._sessions.signed_out},
            on_listen=self._sessions.clear,
        )
        self._tasks.append(asyncio.create_task(self._listener.run(), name="booking-listener"))
        self._session_sweep = Periodic(
            "session sweep", self._forget_expired_sessions, every_s=SESSION_SWEEP_EVERY_S
        )
        self._tasks.append(
            asyncio.create_task(self._session_sweep.run(), name="booking-session-sweep")
        )
        # Visits close by themselves (visit_sweep): every minute of clock time, and at once
        # when the clock is moved.
        self._visit_sweep = Periodic(
            "visit sweep", self._close_overdue_visits, every_s=VISIT_SWEEP_EVERY_S
        )
        self._tasks.append(asyncio.create_task(self._visit_sweep.run(), name="booking-visit-sweep"))
        # Series roll forward: their next occurrences are made as they come into range.
        self._series_sweep = Periodic(
            "series sweep", self._extend_series, every_s=SERIES_SWEEP_EVERY_S
        )
        self._tasks.append(
            asyncio.create_task(self._series_sweep.run(), name="booking-series-sweep")
        )
        self.consumer = make_consumer(self.settings, self._uow, self.publisher, self.group_id)
        self._tasks.append(asyncio.create_task(self._consume(), name="booking-consumer"))

    async def _consume(self) -> None:
        """Join the group, then consume until stopped.

        Nothing booking answers over HTTP needs the consumer, and after a crash its join
        waits for the dead process's session to expire and then for a whole rebalance (6 s
        and 3 s by default): the API answered nothing for about 12 s when the start waited
        for the join. A join that fails ends this task, and so the process.
        """
        assert self.consumer is not None
        await self.consumer.start()
        log.info("booking consuming", group=self.group_id)
        await self.consumer.run()

    async def replay(self) -> int:
        """Send the outbox again if the broker lost what was published (it restarted empty)."""
        assert self.pool is not None
        return await replay_if_broker_lost(self.pool, self.settings, skip=SETTLED_REQUESTS)

    async def _close_overdue_visits(self) -> float | None:
        closed = await visit_sweep.close_overdue_visits(
            self.uow, utc_now(), visit_sweep.VisitWindows.from_settings(self.settings)
        )
        if closed:
            log.info("closed overdue visits", count=closed)
        # A full batch may have left more behind: run again at once.
        return 0 if closed >= visit_sweep.BATCH else None

    async def _forget_expired_sessions(self) -> None:
        forgotten = await accounts.forget_expired_sessions(
            self.uow, self.settings.session_max_age_days
        )
        if forgotten:
            log.info("forgot expired sessions", count=forgotten)
        keys = await accounts.forget_expired_idempotency_keys(
            self.uow, utc_now(), self.settings.idempotency_ttl_s
        )
        if keys:
            log.info("forgot expired idempotency keys", count=keys)
        await self.limiter.forget_idle(clock.wall_now())

    async def _extend_series(self) -> float | None:
        made, more = await series.extend(self.uow, utc_now(), self.settings.series_horizon_days)
        if made:
            log.info("made occurrences of series", count=made)
        return 0.0 if more else None

    def app(self, *, passwords: Passwords | None = None) -> FastAPI:
        """The HTTP API over this runtime (tests may hand it another ``Passwords``)."""
        return create_app(
            self.uow,
            self.settings,
            self._notices,
            self._sessions,
            passwords=passwords or self.passwords,
            idempotency_secret=self._idempotency_secret,
            limiter=self.limiter,
        )

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The background tasks: relay, listener, sweeps and consumer."""
        return list(self._tasks)

    async def ready(self) -> None:
        """Return once the API may answer: notices (clients' streams, other processes'
        sign-outs) are heard and the dummy password hash is made. The consumer may still be
        joining its group (``consuming``)."""
        assert self._listener is not None
        assert self._warming is not None
        await self._listener.listening.wait()
        await self._warming

    async def consuming(self) -> None:
        """Return once the consumer has joined its group and has its partitions."""
        assert self.consumer is not None
        await self.consumer.ready.wait()

    async def stop(self) -> None:
        """Stop consuming and relaying, then close the broker and database connections."""
        if self.relay is not None:
            self.relay.stop()
        if self._listener is not None:
            self._listener.stop()
        if self._session_sweep is not None:
            self._session_sweep.stop()
        if self._visit_sweep is not None:
            self._visit_sweep.stop()
        if self._series_sweep is not None:
            self._series_sweep.stop()
        self._notices.close()
        if self.consumer is not None:
            await self.consumer.stop()
        if self._warming is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warming
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        self._tasks = []
        if self.publisher is not None:
            await self.publisher.stop()
        if self.pool is not None:
            await close_pool(self.pool)


def shared_listener(host: str, port: int) -> socket.socket:
    """A listening socket that other booking processes may bind too.

    With ``SO_REUSEPORT`` the kernel spreads new connections across every booking process on
    the port, so booking scales out on one machine without a load balancer in front. A port
    held by anything else still refuses the bind.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
        listener.listen(_BACKLOG)
    except OSError:
        listener.close()
        raise
    listener.setblocking(False)
    return listener


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run booking until ``stop`` is set: the runtime plus uvicorn in the same loop."""
    runtime = BookingRuntime(settings)

    def http() -> Http:
        server = lifecycle.IdleServer(
            lifecycle.server_config(
                runtime.app(),
                settings.http_host,
                settings.http_port,
                lifespan="on",
                backlog=_BACKLOG,
            )
        )
        return Http(server, sockets=[shared_listener(settings.http_host, settings.http_port)])

    await lifecycle.serve(
        runtime,
        settings,
        stop,
        name="booking",
        http=http,
        replay=runtime.replay,
        ready_detail=f"booking http://{settings.http_host}:{settings.http_port}",
    )
