"""Booking's SQL for operators' accounts, their sessions and the audit trail.

A mixin of ``Repository`` (which owns the connection and the transaction). The audit trail is
only ever inserted into and read: the database refuses anything else (migration 021a).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.domain.operators import Acting, Role
from services.booking.service_layer.records import Row

_OPERATOR_COLUMNS = "operator_id, email, name, roles, created_at, created_by, disabled_at"


class OperatorQueries:
    """Operator queries on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def add_operator(self, operator: Row) -> bool:
        """Insert an operator's account; False when the email is taken."""
        columns = ", ".join(operator)
        marks = ", ".join(f"${index}" for index in range(1, len(operator) + 1))
        try:
            async with self.conn.transaction():  # a savepoint: the caller's transaction lives on
                await self.conn.execute(
                    f"INSERT INTO operators ({columns}) VALUES ({marks})", *operator.values()
                )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def operator_for_sign_in(self, email: str) -> Row | None:
        """An enabled operator's account with its secrets, locked until the transaction ends
        (two sign-ins with one code: the second sees the step the first used)."""
        record = await self.conn.fetchrow(
            "SELECT * FROM operators WHERE lower(email) = lower($1) AND disabled_at IS NULL"
            " FOR UPDATE",
            email,
        )
        return dict(record) if record is not None else None

    async def operator_signed_in(
        self,
        operator_id: uuid.UUID,
        digest: bytes,
        step: int,
        now: datetime,
        expires_at: datetime,
        rehashed: str | None,
    ) -> None:
        """Open a session, remember the code's step, and store a renewed password hash."""
        await self.conn.execute(
            "UPDATE operators SET totp_last_step = $2,"
            " password_hash = coalesce($3, password_hash) WHERE operator_id = $1",
            operator_id,
            step,
            rehashed,
        )
        await self.conn.execute(
            "INSERT INTO operator_sessions (token_digest, operator_id, created_at, expires_at)"
            " VALUES ($1, $2, $3, $4)",
            digest,
            operator_id,
            now,
            expires_at,
        )

    async def operator_by_token(self, digest: bytes, now: datetime) -> Acting | None:
        """The operator a live session token belongs to (not expired, account enabled)."""
        record = await self.conn.fetchrow(
            "SELECT o.operator_id, o.name, o.roles FROM operator_sessions s"
            " JOIN operators o USING (operator_id)"
            " WHERE s.token_digest = $1 AND s.expires_at > $2 AND o.disabled_at IS NULL",
            digest,
            now,
        )
        if record is None:
            return None
        return Acting(
            record["operator_id"], record["name"], frozenset(Role(r) for r in record["roles"])
        )

    async def end_operator_session(self, digest: bytes) -> None:
        """Sign one session out."""
        await self.conn.execute("DELETE FROM operator_sessions WHERE token_digest = $1", digest)

    async def operators(self) -> list[Row]:
        """Every operator's account, without secrets, by name."""
        rows = await self.conn.fetch(f"SELECT {_OPERATOR_COLUMNS} FROM operators ORDER BY name")
        return [dict(row) for row in rows]

    async def operator(self, operator_id: uuid.UUID) -> Row | None:
        """One operator's account, without secrets."""
        record = await self.conn.fetchrow(
            f"SELECT {_OPERATOR_COLUMNS} FROM operators WHERE operator_id = $1", operator_id
        )
        return dict(record) if record is not None else None

    async def enabled_administrators(self) -> list[uuid.UUID]:
        """The enabled administrators' accounts, locked until the transaction ends: two
        administrators demoting each other at once take turns, and the second sees the
        first one's change (so one of them always remains)."""
        rows = await self.conn.fetch(
            "SELECT operator_id FROM operators WHERE disabled_at IS NULL"
            " AND 'administrator' = ANY(roles) ORDER BY operator_id FOR UPDATE"
        )
        return [row["operator_id"] for row in rows]

    async def operator_locked(self, operator_id: uuid.UUID) -> Row | None:
        """One operator's account, without secrets, locked until the transaction ends."""
        record = await self.conn.fetchrow(
            f"SELECT {_OPERATOR_COLUMNS} FROM operators WHERE operator_id = $1 FOR UPDATE",
            operator_id,
        )
        return dict(record) if record is not None else None

    async def change_operator(
        self, operator_id: uuid.UUID, roles: list[str], disabled_at: datetime | None
    ) -> None:
        """Set an account's roles and whether it is disabled; a disabled account's sessions
        end at once (its tokens stop working on the next call)."""
        await self.conn.execute(
            "UPDATE operators SET roles = $2, disabled_at = $3 WHERE operator_id = $1",
            operator_id,
            roles,
            disabled_at,
        )
        if disabled_at is not None:
            await self.conn.execute(
                "DELETE FROM operator_sessions WHERE operator_id = $1", operator_id
            )

    # -- the audit trail ------------------------------------------------------------------
    async def audit(
        self,
        who: Acting,
        action: str,
        now: datetime,
        *,
        subject_kind: str | None = None,
        subject_id: object = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry to the audit trail; its id."""
        entry_id = await self.conn.fetchval(
            "INSERT INTO operator_audit (at, operator_id, operator, roles, action,"
            " subject_kind, subject_id, reason, details)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) RETURNING entry_id",
            now,
            who.operator_id,
            who.name,
            sorted(role.value for role in who.roles),
            action,
            subject_kind,
            None if subject_id is None else str(subject_id),
            reason,
            json.dumps(details or {}, default=str),
        )
        assert isinstance(entry_id, int)
        return entry_id

    async def audit_entries(
        self,
        *,
        after: int,
        limit: int,
        operator_id: uuid.UUID | None = None,
        action: str | None = None,
        subject_id: str | None = None,
        newest_first: bool = False,
    ) -> list[Row]:
        """Entries after ``after`` in the order they were written (or the newest first),
        filtered."""
        rows = await self.conn.fetch(
            "SELECT entry_id, at, operator_id, operator, roles, action, subject_kind,"
            " subject_id, reason, details FROM operator_audit"
            " WHERE entry_id > $1 AND ($2::uuid IS NULL OR operator_id = $2)"
            " AND ($3::text IS NULL OR action = $3 OR action LIKE $3 || '.%')"
            " AND ($4::text IS NULL OR subject_id = $4)"
            f" ORDER BY entry_id {'DESC' if newest_first else ''} LIMIT $5",
            after,
            operator_id,
            action,
            subject_id,
            limit,
        )
        entries = []
        for row in rows:
            entry = dict(row)
            entry["details"] = json.loads(entry["details"])
            entries.append(entry)
        return entries
