"""Booking's SQL for visits that close by themselves (the visit sweep).

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.booking.service_layer.records import Row


class VisitQueries:
    """Queries about overdue visits on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def overdue_visits(
        self, not_checked_in_by: datetime, ended_by: datetime, limit: int
    ) -> list[Row]:
        """Visits still open that are overdue, locked; others' locked rows are skipped.

        Overdue: confirmed but not checked in, with a start at or before
        ``not_checked_in_by``; or checked in, with an end at or before ``ended_by``. Both
        instants come from the clock (the caller subtracts its windows from the present).
        """
        rows = await self.conn.fetch(
            "SELECT * FROM bookings WHERE status IN ('confirmed', 'checked_in')"
            " AND starts_at <= greatest($1::timestamptz, $2::timestamptz)"
            " AND ((status = 'confirmed' AND starts_at <= $1)"
            "   OR (status = 'checked_in' AND starts_at + hours * interval '1 hour' <= $2))"
            " ORDER BY starts_at, booking_id LIMIT $3 FOR UPDATE SKIP LOCKED",
            not_checked_in_by,
            ended_by,
            limit,
        )
        return [dict(row) for row in rows]
