"""The transactional outbox and the relay that publishes it.

A service writes its events with ``add_to_outbox`` inside the transaction that makes the
change, so an event exists exactly when its change does, and the commit wakes the relay
(``shared.postgres.relay_bell``). The relay reads unpublished rows in order, publishes them,
waits for the broker's acknowledgement and only then marks them published: a crash in
between publishes them again (at least once; consumers dedupe by event id), and nothing
committed is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import structlog

from shared import metrics
from shared.contracts import Envelope, encode, key_for, topic_for
from shared.messaging.publisher import Publisher
from shared.postgres.listen import ChannelListener
from shared.postgres.relay_bell import OUTBOX_CHANNEL, RelayBell, wake_relay

log = structlog.get_logger(__name__)

#: The advisory lock of the relay publishing: one at a time, so that events keep their order
#: per key even when a service runs several processes.
RELAY_LOCK_ID = 0x6F7574626F78  # "outbox"
_BACKLOG = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
#: How soon the relay tries again after a try that failed (the broker or the database away)
#: or that found another relay publishing; a wake may have been spent meanwhile.
_RETRY_S = 0.5


def outbox_row(envelope: Envelope[Any]) -> tuple[uuid.UUID, str, bytes, str, bytes]:
    """The ``(event_id, topic, key, type, envelope)`` columns of one event's outbox row.

    For a service that writes the row inside a larger statement of its own.
    """
    return (
        envelope.event_id,
        topic_for(envelope.data).name,
        key_for(envelope.data),
        envelope.type,
        encode(envelope),
    )


def _outbox_insert(first: int) -> str:
    """The outbox insert, a ``WITH`` query named ``events``, over parameters ``$first`` to
    ``$first + 4`` (the columns of ``_outbox_columns``). Rows are numbered in order, so the
    relay publishes them in order."""
    marks = [f"${first + index}" for index in range(5)]
    return (
        "events AS (INSERT INTO outbox (event_id, topic, key, type, envelope)"
        " SELECT event_id, topic, key, type, envelope FROM unnest("
        f"{marks[0]}::uuid[], {marks[1]}::text[], {marks[2]}::bytea[], {marks[3]}::text[],"
        f" {marks[4]}::bytea[]) WITH ORDINALITY AS e(event_id, topic, key, type, envelope, n)"
        " ORDER BY n)"
    )


def _outbox_columns(envelopes: Sequence[Envelope[Any]]) -> list[list[Any]]:
    return [list(column) for column in zip(*(outbox_row(e) for e in envelopes), strict=True)]


async def add_to_outbox(conn: asyncpg.Connection, envelopes: Sequence[Envelope[Any]]) -> None:
    """Write events in the caller's transaction and wake the relay when it commits."""
    if not envelopes:
        return
    await conn.execute(f"WITH {_outbox_insert(1)}{wake_relay()}", *_outbox_columns(envelopes))


#: The ``type`` of a tombstone's outbox row (it has no envelope).
TOMBSTONE = "tombstone"


async def add_tombstones(conn: asyncpg.Connection, keys: Sequence[tuple[str, bytes]]) -> None:
    """Write a tombstone (a null value) under each ``(topic, key)`` in the caller's
    transaction, after the events it wrote before: the relay sends them in that order.

    Only for a service whose outbox allows a null ``envelope`` (a migration of its own), and
    only on compacted topics, where a tombstone means "forget this key".
    """
    if not keys:
        return
    await conn.execute(
        "WITH events AS (INSERT INTO outbox (event_id, topic, key, type, envelope)"
        " SELECT gen_random_uuid(), topic, key, $3, NULL"
        " FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS k(topic, key, n)"
        f" ORDER BY n){wake_relay()}",
        [topic for topic, _ in keys],
        [key for _, key in keys],
        TOMBSTONE,
    )


async def change_with_events(
    conn: asyncpg.Connection | asyncpg.Pool,
    change: str,
    args: Sequence[Any],
    envelopes: Sequence[Envelope[Any]],
) -> None:
    """Run ``change`` (a data-modifying statement over ``$1`` to ``$len(args)``) and write
    ``envelopes`` to the outbox in ONE statement.

    One statement is atomic on its own: a change whose other reads need no lock saves the
    round trips of a transaction (``BEGIN``, ``COMMIT``) and of a separate outbox insert; so
    ``conn`` may as well be the pool.
    """
    if not envelopes:
        await conn.execute(change, *args)
        return
    await conn.execute(
        f"WITH change AS ({change}), {_outbox_insert(len(args) + 1)}{wake_relay()}",
        *args,
        *_outbox_columns(envelopes),
    )


class OutboxRelay:
    """Publishes a service's outbox, woken by its process's commits (``bell``), by NOTIFY
    and, as a safety net, by a poll every ``poll_s``.

    While the relay runs and listens, every committed row rings its bell or is announced by
    NOTIFY, so the poll only covers what neither announced. It looks again within
    ``_RETRY_S`` after a try that failed or that found another process's relay publishing
    (telling that relay, by NOTIFY, that rows it may not have seen are waiting), and while
    its listening connection is being replaced (``ChannelListener``, which wakes it once it
    listens again).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        publisher: Publisher,
        *,
        poll_s: float,
        bell: RelayBell | None = None,
        batch: int = 500,
    ) -> None:
        self._pool = pool
        self._publisher = publisher
        self._poll_s = poll_s
        self._bell = bell
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listener = ChannelListener(
            pool, {OUTBOX_CHANNEL: self._on_notify}, on_listen=self._wake.set
        )
        # Names this relay's own NOTIFYs, which would otherwise wake it again at once.
        self._token = uuid.uuid4().hex
        self._rung = False
        """Whether the bell rang since the last try began."""
        self._lock_elsewhere = False
        """Whether the last try found another relay holding the lock."""
        self.published = 0
        self._backlog = metrics.OUTBOX_BACKLOG.labels(publisher.service)

    async def run(self) -> None:
        """Publish until ``stop``; survives broker hiccups by retrying the same rows."""
        listening = asyncio.create_task(self._listener.run(), name="outbox-listener")
        if self._bell is not None:
            self._bell.attach(self._ring)
        try:
            await self._relay()
        finally:
            if self._bell is not None:
                self._bell.detach()
            self._listener.stop()
            await listening

    async def _relay(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            rung, self._rung = self._rung, False
            failed = False
            try:
                sent = await self.publish_pending()
                if self._lock_elsewhere and rung:
                    await self._hand_over()
            except (TimeoutError, OSError, asyncpg.PostgresError) as error:
                log.warning("outbox relay retrying", error=repr(error))
                sent, failed = 0, True
            except Exception as error:  # a broker error from aiokafka
                if self._stopping.is_set():
                    return
                log.warning("outbox relay retrying", error=repr(error))
                await self._count_backlog()  # while the broker is away, it grows
                sent, failed = 0, True
            if sent >= self._batch:
                continue  # more are waiting
            soon = failed or self._lock_elsewhere or not self._listener.listening.is_set()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=_RETRY_S if soon else self._poll_s
                )

    @property
    def listening(self) -> asyncio.Event:
        """Set while the relay hears NOTIFYs (and so, once set, runs and hears its bell)."""
        return self._listener.listening

    def stop(self) -> None:
        """Finish the batch in hand, then return from ``run``."""
        self._stopping.set()
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events in order; return how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            self._lock_elsewhere = not await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK_ID
            )
            if self._lock_elsewhere:
                return 0  # another relay publishes: look again soon, it may stop
            rows = await conn.fetch(
                "SELECT id, topic, key, envelope, type FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT $1",
                self._batch,
            )
            # A short batch is all there is (as of this transaction): no need to count.
            full = len(rows) >= self._batch
            backlog = await conn.fetchval(_BACKLOG) - len(rows) if full else 0
            if not rows:
                self._backlog.set(0)
                return 0
            await self._publisher.send_encoded(
                [(row["topic"], row["key"], row["envelope"], row["type"]) for row in rows]
            )
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        self.published += len(rows)
        self._backlog.set(backlog)
        return len(rows)

    async def _count_backlog(self) -> None:
        """Count unpublished rows for ``kith_outbox_backlog``; best effort."""
        with contextlib.suppress(OSError, TimeoutError, asyncpg.PostgresError):
            async with self._pool.acquire() as conn:
                self._backlog.set(await conn.fetchval(_BACKLOG))

    async def _hand_over(self) -> None:
        """Tell the relay publishing elsewhere that rows may be waiting: it may have read
        before they committed, and their writers rang only this process's relay."""
        await self._pool.execute("SELECT pg_notify($1, $2)", OUTBOX_CHANNEL, self._token)

    def _ring(self) -> None:
        self._rung = True
        self._wake.set()

    def _on_notify(self, payload: str) -> None:
        if payload != self._token:
            self._wake.set()
