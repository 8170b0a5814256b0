"""Notify's database: the delivery log and the visits to remind of."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg

from services.notify.domain.notices import REMINDERS, Channel, Kind, Notice, Status, Visit
from services.notify.service_layer.ports import Claim, Pending

_REMINDER_KINDS = sorted(str(kind) for kind in REMINDERS)


@dataclass(frozen=True, slots=True)
class FailedNotice:
    """A notice that could not be sent: an operator's task, without personal data."""

    event_id: uuid.UUID
    person_id: uuid.UUID
    channel: str
    kind: str
    attempts: int
    last_error: str | None
    failed_at: datetime


class _Claim:
    def __init__(self, conn: asyncpg.Connection, pending: Pending) -> None:
        self._conn = conn
        self._pending = pending

    @property
    def pending(self) -> Pending:
        return self._pending

    async def _set(self, status: Status, **changes: Any) -> None:
        notice = self._pending.notice
        sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(changes, start=6))
        await self._conn.execute(
            f"UPDATE deliveries SET status = $5, updated_at = now(){', ' + sets if sets else ''}"
            " WHERE event_id = $1 AND person_id = $2 AND channel = $3 AND kind = $4",
            notice.event_id,
            notice.person_id,
            str(notice.channel),
            str(notice.kind),
            str(status),
            *changes.values(),
        )

    async def sent(self, at: datetime) -> None:
        await self._set(Status.SENT, sent_at=at, attempts=self._pending.attempts + 1)

    async def retry(self, at: datetime, error: str) -> None:
        await self._set(
            Status.PENDING, due_at=at, attempts=self._pending.attempts + 1, last_error=error
        )

    async def deferred(self, until: datetime) -> None:
        await self._set(Status.PENDING, due_at=until)

    async def failed(self, error: str) -> None:
        await self._set(Status.FAILED, attempts=self._pending.attempts + 1, last_error=error)

    async def dropped(self, reason: str) -> None:
        await self._set(Status.DROPPED, last_error=reason)


def _visit(row: asyncpg.Record) -> Visit:
    return Visit(
        row["booking_id"],
        row["helper_id"],
        row["neighbour_id"],
        row["skill"],
        row["starts_at"],
        row["hours"],
    )


class PostgresStore:
    """``NotifyStore`` on notify's own database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_notices(self, notices: Sequence[Notice]) -> int:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "INSERT INTO deliveries (event_id, person_id, channel, kind, params, due_at)"
                " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[],"
                " $5::jsonb[], $6::timestamptz[])"
                " ON CONFLICT DO NOTHING RETURNING 1",
                [n.event_id for n in notices],
                [n.person_id for n in notices],
                [str(n.channel) for n in notices],
                [str(n.kind) for n in notices],
                [json.dumps(n.params) for n in notices],
                [n.due_at for n in notices],
            )
        return len(rows)

    async def record_visit(self, visit: Visit) -> None:
        await self._pool.execute(
            "INSERT INTO visits (booking_id, helper_id, neighbour_id, skill, starts_at, hours)"
            " SELECT $1, $2, $3, $4, $5, $6"
            " WHERE NOT EXISTS (SELECT 1 FROM ended_visits WHERE booking_id = $1)"
            " ON CONFLICT DO NOTHING",
            visit.booking_id,
            visit.helper_id,
            visit.neighbour_id,
            visit.skill,
            visit.starts_at,
            visit.hours,
        )

    async def _drop_reminders(self, conn: asyncpg.Connection, booking_id: uuid.UUID) -> None:
        await conn.execute(
            "UPDATE deliveries SET status = 'dropped', updated_at = now(),"
            " last_error = 'the visit was cancelled, moved or is over'"
            " WHERE status = 'pending' AND params ->> 'booking_id' = $1 AND kind = ANY($2)",
            str(booking_id),
            _REMINDER_KINDS,
        )

    async def end_visit(self, booking_id: uuid.UUID) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            connection = cast(asyncpg.Connection, conn)
            await connection.execute("DELETE FROM visits WHERE booking_id = $1", booking_id)
            await connection.execute(
                "INSERT INTO ended_visits (booking_id) VALUES ($1) ON CONFLICT DO NOTHING",
                booking_id,
            )
            await self._drop_reminders(connection, booking_id)

    async def move_visit(self, booking_id: uuid.UUID, starts_at: datetime, hours: int) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            connection = cast(asyncpg.Connection, conn)
            await connection.execute(
                "UPDATE visits SET starts_at = $2, hours = $3 WHERE booking_id = $1",
                booking_id,
                starts_at,
                hours,
            )
            await self._drop_reminders(connection, booking_id)

    async def visits_starting(self, after: datetime, before: datetime) -> list[Visit]:
        rows = await self._pool.fetch(
            "SELECT * FROM visits WHERE starts_at > $1 AND starts_at <= $2", after, before
        )
        return [_visit(row) for row in rows]

    @asynccontextmanager
    async def claim_due(self, now: datetime) -> AsyncIterator[Claim | None]:
        # Locked, then sent, then its outcome written, in one transaction: SKIP LOCKED lets a
        # second notify process take the next notice instead of waiting for this one.
        async with self._pool.acquire() as conn, conn.transaction():
            connection = cast(asyncpg.Connection, conn)
            row = await connection.fetchrow(
                "SELECT * FROM deliveries WHERE status = 'pending' AND due_at <= $1"
                " ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                now,
            )
            if row is None:
                yield None
                return
            notice = Notice(
                row["event_id"],
                row["person_id"],
                Kind(row["kind"]),
                row["due_at"],
                json.loads(row["params"]),
                Channel(row["channel"]),
            )
            yield _Claim(connection, Pending(notice, row["attempts"]))

    async def next_due(self) -> datetime | None:
        """When the earliest pending notice falls due."""
        value = await self._pool.fetchval(
            "SELECT min(due_at) FROM deliveries WHERE status = 'pending'"
        )
        return cast(datetime | None, value)

    async def failed(self, limit: int) -> list[FailedNotice]:
        """The latest notices that could not be sent, newest first."""
        rows = await self._pool.fetch(
            "SELECT event_id, person_id, channel, kind, attempts, last_error, updated_at"
            " FROM deliveries WHERE status = 'failed' ORDER BY updated_at DESC LIMIT $1",
            limit,
        )
        return [
            FailedNotice(
                row["event_id"],
                row["person_id"],
                row["channel"],
                row["kind"],
                row["attempts"],
                row["last_error"],
                row["updated_at"],
            )
            for row in rows
        ]

    async def counts(self) -> dict[str, int]:
        """How many notices are in each status."""
        rows = await self._pool.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY 1")
        return {row["status"]: row["n"] for row in rows}
