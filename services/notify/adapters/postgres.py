"""Notify's database: the delivery log and the visits to remind of."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg

from services.notify.domain.notices import REMINDERS, Channel, Kind, Notice, Status, Visit
from services.notify.service_layer.ports import Batch, Claim, Commit, Pending

_REMINDER_KINDS = sorted(str(kind) for kind in REMINDERS)

#: A sender stops starting sends this long before its lease ends, so that a send it began is
#: over (its longest wait, on a slow server) before anyone else may take the notice.
_LEASE_MARGIN_S = 5.0

#: Where a claim writes its outcome: on its own (the pool), or in a hand-over's transaction.
Executor = asyncpg.Pool | asyncpg.Connection

#: What a rollback on a connection that broke may raise.
_GONE = (asyncpg.InterfaceError, asyncpg.PostgresError, OSError)

#: A notice's identity: event, person, channel, kind.
Key = tuple[uuid.UUID, uuid.UUID, str, str]


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


@dataclass(frozen=True, slots=True)
class Summary:
    """Notify's figures for the operators' console: no personal data."""

    #: Per channel: sent, failed, pending, and retried (tries beyond the first).
    channels: dict[str, dict[str, int]]
    #: Failed notices no operator has resolved.
    open_tasks: int


class _Claim:
    """One leased notice; its outcome is committed the moment it is known."""

    def __init__(self, pool: asyncpg.Pool, pending: Pending, deadline: float) -> None:
        self._pool = pool
        self._pending = pending
        self._deadline = deadline
        notice = pending.notice
        self.status = Status.PENDING
        self.due_at = notice.due_at
        self.attempts = pending.attempts
        self.last_error: str | None = None
        self.sent_at: datetime | None = None
        self.decided = False

    @property
    def pending(self) -> Pending:
        return self._pending

    def seconds_left(self) -> float:
        return self._deadline - time.monotonic()

    async def _set(self, status: Status, **changes: Any) -> None:
        # On its own, at once: a crash after this line does not send the notice again.
        await self._write(self._pool, status, **changes)

    async def _write(self, executor: Executor, status: Status, **changes: Any) -> None:
        self.status = status
        self.decided = True
        for name, value in changes.items():
            setattr(self, name, value)
        notice = self._pending.notice
        await executor.execute(
            "UPDATE deliveries SET status = $5, due_at = $6, attempts = $7,"
            " last_error = coalesce($8, last_error), sent_at = $9,"
            " lease_until = NULL, updated_at = now()"
            " WHERE event_id = $1 AND person_id = $2 AND channel = $3 AND kind = $4",
            notice.event_id,
            notice.person_id,
            str(notice.channel),
            str(notice.kind),
            str(self.status),
            self.due_at,
            self.attempts,
            self.last_error,
            self.sent_at,
        )

    async def sent(self, at: datetime) -> None:
        await self._set(Status.SENT, sent_at=at, attempts=self._pending.attempts + 1)

    @asynccontextmanager
    async def handing_over(self, at: datetime) -> AsyncIterator[Commit]:
        before = (self.status, self.decided, self.attempts, self.sent_at)
        committed = False
        async with self._pool.acquire() as pooled:
            connection = cast(asyncpg.Connection, pooled)
            transaction = connection.transaction()
            await transaction.start()

            async def commit() -> None:
                nonlocal committed
                # No await before COMMIT's bytes are written (asyncpg writes a query before
                # its first wait): they leave right behind the caller's last write.
                await transaction.commit()
                committed = True

            try:
                await self._write(
                    connection, Status.SENT, sent_at=at, attempts=self._pending.attempts + 1
                )
                yield commit
            finally:
                if not committed:
                    self.status, self.decided, self.attempts, self.sent_at = before
                    with contextlib.suppress(*_GONE):
                        await transaction.rollback()

    async def retry(self, at: datetime, error: str) -> None:
        # ``sent_at=None``: a message recorded as sent as it was handed over, then refused.
        await self._set(
            Status.PENDING,
            due_at=at,
            attempts=self._pending.attempts + 1,
            last_error=error,
            sent_at=None,
        )

    async def deferred(self, until: datetime) -> None:
        await self._set(Status.PENDING, due_at=until)

    async def failed(self, error: str) -> None:
        await self._set(
            Status.FAILED, attempts=self._pending.attempts + 1, last_error=error, sent_at=None
        )

    async def dropped(self, reason: str) -> None:
        await self._set(Status.DROPPED, last_error=reason)


_INSERT = (
    "INSERT INTO deliveries (event_id, person_id, channel, kind, params, due_at)"
    " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[],"
    " $5::jsonb[], $6::timestamptz[])"
    " ON CONFLICT DO NOTHING RETURNING event_id, person_id, channel, kind"
)


async def _insert(conn: asyncpg.Connection | asyncpg.Pool, notices: Sequence[Notice]) -> set[Key]:
    rows = await conn.fetch(
        _INSERT,
        [n.event_id for n in notices],
        [n.person_id for n in notices],
        [str(n.channel) for n in notices],
        [str(n.kind) for n in notices],
        [json.dumps(n.params) for n in notices],
        [n.due_at for n in notices],
    )
    return {(r["event_id"], r["person_id"], r["channel"], r["kind"]) for r in rows}


def _key(notice: Notice) -> Key:
    return (notice.event_id, notice.person_id, str(notice.channel), str(notice.kind))


class _Batch:
    """``Batch``: leased notices, each claim writing its own outcome."""

    def __init__(
        self, pool: asyncpg.Pool, claims: list[_Claim], lease_s: float, deadline: float
    ) -> None:
        self._pool = pool
        self._claims = claims
        self._lease_s = lease_s
        self._deadline = deadline

    @property
    def claims(self) -> Sequence[Claim]:
        return list(self._claims)

    async def route(self, routes: Sequence[tuple[Claim, Sequence[Notice]]]) -> list[list[Claim]]:
        keys = [_key(claim.pending.notice) for claim, _ in routes]
        async with self._pool.acquire() as conn, conn.transaction():
            connection = cast(asyncpg.Connection, conn)
            new = await _insert(connection, [n for _, notices in routes for n in notices])
            # The new notices are this sender's to send now: leased with the batch.
            await connection.execute(
                "UPDATE deliveries d SET lease_until = now() + make_interval(secs => $5)"
                " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])"
                " AS k(event_id, person_id, channel, kind)"
                " WHERE (d.event_id, d.person_id, d.channel, d.kind)"
                " = (k.event_id, k.person_id, k.channel, k.kind)",
                *_columns(list(new)),
                self._lease_s,
            )
            await connection.execute(
                "UPDATE deliveries d SET status = 'routed', lease_until = NULL,"
                " updated_at = now()"
                " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])"
                " AS k(event_id, person_id, channel, kind)"
                " WHERE (d.event_id, d.person_id, d.channel, d.kind)"
                " = (k.event_id, k.person_id, k.channel, k.kind)",
                *_columns(keys),
            )
        answer: list[list[Claim]] = []
        for claim, notices in routes:
            assert isinstance(claim, _Claim)
            claim.status, claim.decided = Status.ROUTED, True
            routed = [
                _Claim(self._pool, Pending(n, 0), self._deadline) for n in notices if _key(n) in new
            ]
            self._claims.extend(routed)
            answer.append(list[Claim](routed))
        return answer

    async def release(self) -> None:
        """Give back the notices nobody decided on, for the next round to take at once."""
        undecided = [_key(claim.pending.notice) for claim in self._claims if not claim.decided]
        if undecided:
            await self._pool.execute(
                "UPDATE deliveries d SET lease_until = NULL"
                " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])"
                " AS k(event_id, person_id, channel, kind)"
                " WHERE (d.event_id, d.person_id, d.channel, d.kind)"
                " = (k.event_id, k.person_id, k.channel, k.kind) AND d.status = 'pending'",
                *_columns(undecided),
            )


def _columns(keys: Sequence[Key]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    return (
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [k[3] for k in keys],
    )


def _notice(row: asyncpg.Record) -> Notice:
    return Notice(
        row["event_id"],
        row["person_id"],
        Kind(row["kind"]),
        row["due_at"],
        json.loads(row["params"]),
        Channel(row["channel"]),
    )


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

    def __init__(self, pool: asyncpg.Pool, lease_s: float = 60.0) -> None:
        self._pool = pool
        self._lease_s = lease_s

    async def add_notices(self, notices: Sequence[Notice]) -> int:
        return len(await _insert(self._pool, notices))

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

    async def keep_visit(self, visit: Visit) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            connection = cast(asyncpg.Connection, conn)
            await connection.execute(
                "DELETE FROM ended_visits WHERE booking_id = $1", visit.booking_id
            )
            await connection.execute(
                "INSERT INTO visits (booking_id, helper_id, neighbour_id, skill, starts_at,"
                " hours) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                visit.booking_id,
                visit.helper_id,
                visit.neighbour_id,
                visit.skill,
                visit.starts_at,
                visit.hours,
            )

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

    async def remember_reopened(self, request_id: uuid.UUID) -> None:
        await self._pool.execute(
            "INSERT INTO reopened_requests (request_id) VALUES ($1) ON CONFLICT DO NOTHING",
            request_id,
        )

    async def reopened(self, request_id: uuid.UUID) -> bool:
        found = await self._pool.fetchval(
            "SELECT 1 FROM reopened_requests WHERE request_id = $1", request_id
        )
        return found is not None

    async def remember_concern(self, concern_id: uuid.UUID, raised_by: uuid.UUID) -> None:
        await self._pool.execute(
            "INSERT INTO concern_raisers (concern_id, raised_by) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING",
            concern_id,
            raised_by,
        )

    async def concern_raiser(self, concern_id: uuid.UUID) -> uuid.UUID | None:
        found = await self._pool.fetchval(
            "SELECT raised_by FROM concern_raisers WHERE concern_id = $1", concern_id
        )
        return cast(uuid.UUID | None, found)

    @asynccontextmanager
    async def claim_due(self, now: datetime, limit: int) -> AsyncIterator[Batch]:
        # Leased in one short statement (SKIP LOCKED: two senders never take the same ones),
        # not held in a transaction while they are sent: each outcome commits on its own.
        deadline = time.monotonic() + self._lease_s - _LEASE_MARGIN_S
        rows = await self._pool.fetch(
            "UPDATE deliveries d SET lease_until = now() + make_interval(secs => $3)"
            " FROM (SELECT event_id, person_id, channel, kind FROM deliveries"
            " WHERE status = 'pending' AND due_at <= $1"
            " AND (lease_until IS NULL OR lease_until < now())"
            " ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) c"
            " WHERE (d.event_id, d.person_id, d.channel, d.kind)"
            " = (c.event_id, c.person_id, c.channel, c.kind)"
            " RETURNING d.*",
            now,
            limit,
            self._lease_s,
        )
        rows = sorted(rows, key=lambda row: row["due_at"])
        claims = [
            _Claim(self._pool, Pending(_notice(row), row["attempts"]), deadline) for row in rows
        ]
        batch = _Batch(self._pool, claims, self._lease_s, deadline)
        try:
            yield batch
        finally:
            await batch.release()

    async def next_due(self) -> datetime | None:
        """When the earliest pending notice nobody holds falls due (one a killed sender held
        is found by the regular poll once its lease ends)."""
        value = await self._pool.fetchval(
            "SELECT min(due_at) FROM deliveries WHERE status = 'pending'"
            " AND (lease_until IS NULL OR lease_until < now())"
        )
        return cast(datetime | None, value)

    async def failed(self, limit: int) -> list[FailedNotice]:
        """The open operators' tasks: notices that could not be sent, newest first."""
        rows = await self._pool.fetch(
            "SELECT event_id, person_id, channel, kind, attempts, last_error, updated_at"
            " FROM deliveries WHERE status = 'failed' AND resolved_at IS NULL"
            " ORDER BY updated_at DESC LIMIT $1",
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

    async def summary(self) -> Summary:
        """Per channel, notices sent, failed, pending and tries beyond the first; and the
        operators' open tasks (failed, not resolved)."""
        rows = await self._pool.fetch(
            "SELECT channel, status, count(*) AS n, sum(greatest(attempts - 1, 0)) AS retried"
            " FROM deliveries WHERE channel <> 'any' GROUP BY 1, 2"
        )
        channels: dict[str, dict[str, int]] = {}
        for row in rows:
            figures = channels.setdefault(
                row["channel"], {"sent": 0, "failed": 0, "retried": 0, "pending": 0}
            )
            if row["status"] in figures:
                figures[row["status"]] += row["n"]
            figures["retried"] += int(row["retried"] or 0)
        open_tasks = await self._pool.fetchval(
            "SELECT count(*) FROM deliveries WHERE status = 'failed' AND resolved_at IS NULL"
        )
        return Summary(channels, int(open_tasks))

    async def resolve(
        self, event_id: uuid.UUID, person_id: uuid.UUID, channel: str, kind: str, at: datetime
    ) -> bool:
        """Close the operators' task of a failed notice; ``False`` when there is no such task."""
        done = await self._pool.fetchval(
            "UPDATE deliveries SET resolved_at = $5 WHERE event_id = $1 AND person_id = $2"
            " AND channel = $3 AND kind = $4 AND status = 'failed' AND resolved_at IS NULL"
            " RETURNING 1",
            event_id,
            person_id,
            channel,
            kind,
            at,
        )
        return done is not None

    async def counts(self) -> dict[str, int]:
        """How many notices are in each status."""
        rows = await self._pool.fetch("SELECT status, count(*) AS n FROM deliveries GROUP BY 1")
        return {row["status"]: row["n"] for row in rows}
