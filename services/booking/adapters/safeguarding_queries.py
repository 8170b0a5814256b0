"""Booking's SQL for safeguarding: holding a suspended person's visits and requests, and
telling the people affected.

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.booking.adapters.notices import NOTICE_CHANNEL
from services.booking.service_layer.records import Row


class SafeguardingQueries:
    """Queries about suspensions on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def notify(self, person_id: uuid.UUID, kind: str, data: dict[str, str]) -> None:
        """Tell one person's connected clients something of theirs changed; heard when the
        transaction commits, so never for a change that rolled back."""
        payload = json.dumps({"to": str(person_id), "type": kind, "data": data})
        await self.conn.execute("SELECT pg_notify($1, $2)", NOTICE_CHANNEL, payload)

    async def upcoming_confirmed(self, person_id: uuid.UUID, now: datetime) -> list[Row]:
        """The person's confirmed visits (either side) that have not started, locked."""
        rows = await self.conn.fetch(
            "SELECT * FROM bookings WHERE (helper_id = $1 OR neighbour_id = $1)"
            " AND status = 'confirmed' AND starts_at > $2 ORDER BY starts_at, seq FOR UPDATE",
            person_id,
            now,
        )
        return [dict(row) for row in rows]

    async def hold_booking(
        self, booking_id: uuid.UUID, cancelled_by: str, reason: str, now: datetime
    ) -> None:
        """Cancel a booking as held by a suspension and give its hours back."""
        await self.conn.execute(
            "UPDATE bookings SET status = 'cancelled', held = true, flagged = true,"
            " cancelled_at = $2, cancelled_by = $3, cancel_reason = $4, late_cancel = false"
            " WHERE booking_id = $1",
            booking_id,
            now,
            cancelled_by,
            reason,
        )
        await self.conn.execute("DELETE FROM helper_hours WHERE booking_id = $1", booking_id)

    async def requests_in_status(
        self, neighbour_id: uuid.UUID, statuses: Sequence[str], now: datetime
    ) -> list[Row]:
        """A neighbour's requests in these statuses that have not started, locked."""
        rows = await self.conn.fetch(
            "SELECT * FROM requests WHERE neighbour_id = $1 AND status = ANY($2::text[])"
            " AND starts_at > $3 ORDER BY seq FOR UPDATE",
            neighbour_id,
            list(statuses),
            now,
        )
        return [dict(row) for row in rows]

    async def set_requests_status(self, request_ids: Sequence[uuid.UUID], status: str) -> None:
        """Move several occurrences to one status."""
        await self.conn.execute(
            "UPDATE requests SET status = $2 WHERE request_id = ANY($1::uuid[])",
            list(request_ids),
            status,
        )

    async def withdraw_offers(
        self, *, helper_id: uuid.UUID | None = None, request_ids: Sequence[uuid.UUID] = ()
    ) -> None:
        """Withdraw the open offers to a helper, or of some requests."""
        await self.conn.execute(
            "UPDATE offers SET status = 'withdrawn' WHERE status = 'open'"
            " AND (helper_id = $1 OR request_id = ANY($2::uuid[]))",
            helper_id,
            list(request_ids),
        )

    # -- concerns ----------------------------------------------------------------------
    async def visit_since(
        self, me: uuid.UUID, other: uuid.UUID, booking_id: uuid.UUID | None, since: datetime
    ) -> bool:
        """Whether the two share a visit (``booking_id`` if given) starting at ``since`` or
        later: one booked, or one that happened recently."""
        found = await self.conn.fetchval(
            "SELECT true FROM bookings WHERE ($3::uuid IS NULL OR booking_id = $3)"
            " AND ((helper_id = $1 AND neighbour_id = $2)"
            " OR (helper_id = $2 AND neighbour_id = $1)) AND starts_at >= $4 LIMIT 1",
            me,
            other,
            booking_id,
            since,
        )
        return bool(found)

    async def lock_person(self, person_id: uuid.UUID) -> None:
        """Hold the person's row until the transaction ends: their own changes take turns."""
        await self.conn.execute("SELECT 1 FROM people WHERE person_id = $1 FOR UPDATE", person_id)

    async def concerns_raised_since(
        self, person_id: uuid.UUID, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many concerns the person raised after ``since``, and when the oldest was."""
        row = await self.conn.fetchrow(
            "SELECT count(*) AS n, min(raised_at) AS oldest FROM concerns"
            " WHERE raised_by_id = $1 AND raised_at > $2",
            person_id,
            since,
        )
        assert row is not None  # an aggregate always answers
        return int(row["n"]), row["oldest"]

    async def add_concern(self, concern: Row) -> None:
        """Store a concern as operators list it."""
        columns = list(concern)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        await self.conn.execute(
            f"INSERT INTO concerns ({', '.join(columns)}) VALUES ({marks})", *concern.values()
        )

    async def add_vetting_reason(self, record: Row) -> None:
        """Keep why an operator failed or revoked a vetting step (the event does not carry it)."""
        columns = list(record)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        await self.conn.execute(
            f"INSERT INTO vetting_reasons ({', '.join(columns)}) VALUES ({marks})",
            *record.values(),
        )

    async def add_vetting_record(self, record: Row) -> None:
        """Keep a vetting step as recorded, with its evidence note (the pipeline's history)."""
        columns = list(record)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        await self.conn.execute(
            f"INSERT INTO vetting_records ({', '.join(columns)}) VALUES ({marks})",
            *record.values(),
        )

    async def vetting_reasons_of(self, person_id: uuid.UUID) -> list[Row]:
        """Why steps of this person were failed or revoked, newest first."""
        rows = await self.conn.fetch(
            "SELECT step, outcome, reason, recorded_by, recorded_at FROM vetting_reasons"
            " WHERE person_id = $1 ORDER BY recorded_at DESC, event_id",
            person_id,
        )
        return [dict(row) for row in rows]

    async def welfare_checks(self, limit: int, offset: int) -> list[Row]:
        """Visits where the neighbour did not answer the door, newest first, with the note."""
        rows = await self.conn.fetch(
            "SELECT booking_id, neighbour_id, helper_id, neighbourhood, starts_at,"
            " no_show_note AS note FROM bookings"
            " WHERE status = 'no_show' AND no_show_absent = 'neighbour'"
            " ORDER BY starts_at DESC, booking_id LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [dict(row) for row in rows]

    async def concern_counts(self, person_id: uuid.UUID) -> dict[str, int]:
        """How many concerns a person raised, and how many were raised about them."""
        row = await self.conn.fetchrow(
            "SELECT count(*) FILTER (WHERE raised_by_id = $1) AS raised,"
            " count(*) FILTER (WHERE about_id = $1) AS about FROM concerns"
            " WHERE raised_by_id = $1 OR about_id = $1",
            person_id,
        )
        assert row is not None
        return {"raised": int(row["raised"]), "about": int(row["about"])}

    async def concerns_in_status(self, status: str, limit: int, offset: int = 0) -> list[Row]:
        """Concerns in a status, oldest first, each with how many its raiser has raised."""
        rows = await self.conn.fetch(
            "SELECT c.*, CASE WHEN c.raised_by_id IS NULL THEN NULL ELSE"
            " (SELECT count(*) FROM concerns r WHERE r.raised_by_id = c.raised_by_id) END"
            " AS raised_by_count FROM concerns c WHERE c.status = $1"
            " ORDER BY c.raised_at, c.concern_id LIMIT $2 OFFSET $3",
            status,
            limit,
            offset,
        )
        return [dict(row) for row in rows]

    async def concern_to_resolve(self, concern_id: uuid.UUID) -> Row | None:
        """A concern's subject and status, locked until the transaction ends (so two
        operators cannot both resolve it)."""
        row = await self.conn.fetchrow(
            "SELECT about_id, status FROM concerns WHERE concern_id = $1 FOR UPDATE", concern_id
        )
        return None if row is None else dict(row)

    async def resolve_concern(
        self,
        concern_id: uuid.UUID,
        *,
        outcome: str,
        reason: str,
        resolved_by: str,
        resolved_at: datetime,
    ) -> None:
        """Record an operator's decision on a concern, with the reason kept here."""
        await self.conn.execute(
            "UPDATE concerns SET status = 'resolved', outcome = $2, reason = $3,"
            " resolved_by = $4, resolved_at = $5 WHERE concern_id = $1",
            concern_id,
            outcome,
            reason,
            resolved_by,
            resolved_at,
        )
