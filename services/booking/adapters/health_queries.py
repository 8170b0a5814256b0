"""Booking's SQL for the relationship-health panel: patterns in visits that an operator
should look at before they become a problem. Each query takes the present as a parameter,
and the most rows to return; each orders its rows fully, so that a list cut at any length
starts the same way.

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.booking.service_layer.records import Row


class HealthQueries:
    """Relationship-health queries on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def pairs_stopped(self, now: datetime, quiet: timedelta, limit: int) -> list[Row]:
        """Pairs with two or more visits done, none in ``quiet`` and none booked ahead."""
        rows = await self.conn.fetch(
            "SELECT helper_id, neighbour_id, count(*) AS visits, max(starts_at) AS last_visit_at"
            " FROM bookings b WHERE status = 'completed' GROUP BY helper_id, neighbour_id"
            " HAVING count(*) >= 2 AND max(starts_at) < $1 AND NOT EXISTS ("
            "   SELECT 1 FROM bookings a WHERE a.helper_id = b.helper_id"
            "   AND a.neighbour_id = b.neighbour_id AND a.status = 'confirmed'"
            "   AND a.starts_at >= $2)"
            " ORDER BY max(starts_at), helper_id, neighbour_id LIMIT $3",
            now - quiet,
            now,
            limit,
        )
        return [dict(row) for row in rows]

    async def not_as_agreed(self, now: datetime, within: timedelta, limit: int) -> list[Row]:
        """Check-ins since ``within`` ago that said a visit did not go as agreed."""
        rows = await self.conn.fetch(
            "SELECT c.booking_id, c.author_id, c.about_id, c.as_agreed, b.starts_at"
            " FROM checkins c JOIN bookings b USING (booking_id)"
            " WHERE c.as_agreed IN ('no', 'partly') AND b.starts_at >= $1"
            " ORDER BY b.starts_at DESC, c.booking_id, c.author_id LIMIT $2",
            now - within,
            limit,
        )
        return [dict(row) for row in rows]

    async def late_cancellers(
        self, now: datetime, within: timedelta, at_least: int, limit: int
    ) -> list[Row]:
        """People who cancelled late ``at_least`` times in ``within``."""
        rows = await self.conn.fetch(
            "SELECT CASE WHEN cancelled_by = 'helper' THEN helper_id ELSE neighbour_id END"
            " AS person_id, count(*) AS late_cancellations FROM bookings"
            " WHERE late_cancel AND cancelled_at >= $1"
            " GROUP BY 1 HAVING count(*) >= $2 ORDER BY count(*) DESC, 1 LIMIT $3",
            now - within,
            at_least,
            limit,
        )
        return [dict(row) for row in rows]

    async def over_weekly_cap(self, week_start: datetime, limit: int) -> list[Row]:
        """Helpers booked for more hours in the week from ``week_start`` than their cap."""
        rows = await self.conn.fetch(
            "SELECT b.helper_id, sum(b.hours) AS hours, p.weekly_hour_cap FROM bookings b"
            " JOIN people p ON p.person_id = b.helper_id"
            " WHERE b.status IN ('confirmed', 'completed')"
            " AND b.starts_at >= $1 AND b.starts_at < $1 + interval '7 days'"
            " GROUP BY b.helper_id, p.weekly_hour_cap HAVING sum(b.hours) > p.weekly_hour_cap"
            " ORDER BY sum(b.hours) - p.weekly_hour_cap DESC, b.helper_id LIMIT $2",
            week_start,
            limit,
        )
        return [dict(row) for row in rows]

    async def neighbours_gone_quiet(self, now: datetime, quiet: timedelta, limit: int) -> list[Row]:
        """Neighbours who had visits, none in ``quiet`` and none booked ahead."""
        rows = await self.conn.fetch(
            "SELECT neighbour_id, max(starts_at) AS last_visit_at FROM bookings b"
            " WHERE status = 'completed' GROUP BY neighbour_id HAVING max(starts_at) < $1"
            " AND NOT EXISTS (SELECT 1 FROM bookings a WHERE a.neighbour_id = b.neighbour_id"
            "   AND a.status = 'confirmed' AND a.starts_at >= $2)"
            " ORDER BY max(starts_at), neighbour_id LIMIT $3",
            now - quiet,
            now,
            limit,
        )
        return [dict(row) for row in rows]
