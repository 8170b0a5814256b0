"""Booking's SQL for bookings: booking an accepted offer, the helper's hours, check-ins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.adapters.guards import guarded
from services.booking.adapters.people_queries import row_or_none
from services.booking.service_layer.records import Row


class BookingQueries:
    """Booking queries; mixed into ``Repository``, on its connection."""

    conn: asyncpg.Connection

    async def booking(self, booking_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        """One booking, optionally locked until the transaction ends."""
        suffix = " FOR UPDATE" if lock else ""
        return row_or_none(
            await self.conn.fetchrow(
                f"SELECT * FROM bookings WHERE booking_id = $1{suffix}", booking_id
            )
        )

    async def bookings_of(
        self, person_id: uuid.UUID, when: str | None, now: datetime, limit: int, offset: int
    ) -> list[Row]:
        """A person's bookings on either side; ``when`` is upcoming, past or None."""
        condition = {"upcoming": " AND starts_at > $2", "past": " AND starts_at <= $2"}.get(
            when or "", " AND $2::timestamptz IS NOT NULL"
        )
        order = "DESC" if when == "past" else "ASC"
        rows = await self.conn.fetch(
            "SELECT * FROM bookings WHERE (helper_id = $1 OR neighbour_id = $1)"
            f"{condition} ORDER BY starts_at {order}, seq LIMIT $3 OFFSET $4",
            person_id,
            now,
            limit,
            offset,
        )
        return [dict(row) for row in rows]

    async def update_booking(self, booking_id: uuid.UUID, **changes: Any) -> None:
        """Set some columns of a booking."""
        assignments = ", ".join(
            f"{column} = ${index}" for index, column in enumerate(changes, start=2)
        )
        await self.conn.execute(
            f"UPDATE bookings SET {assignments} WHERE booking_id = $1",
            booking_id,
            *changes.values(),
        )

    async def take_helper_hours(
        self, helper_id: uuid.UUID, booking_id: uuid.UUID, hours: list[datetime]
    ) -> None:
        """Take hours for a booking.

        Raises:
            HoursTaken: The helper holds one of them already (``helper_hours_no_overlap``).
        """
        with guarded():
            await self.conn.execute(
                "INSERT INTO helper_hours (helper_id, hour, booking_id)"
                " SELECT $1, hour, $2 FROM unnest($3::timestamptz[]) AS hour",
                helper_id,
                booking_id,
                hours,
            )

    async def free_helper_hours(self, booking_id: uuid.UUID) -> None:
        """Give a cancelled booking's hours back to its helper."""
        await self.conn.execute("DELETE FROM helper_hours WHERE booking_id = $1", booking_id)

    async def add_checkin(self, checkin: Row) -> bool:
        """Store one person's answers about a visit; False if they answered before."""
        inserted = await self.conn.fetchval(
            "INSERT INTO checkins (checkin_id, booking_id, author_id, about_id, see_again,"
            " as_agreed, note) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (booking_id, author_id) DO NOTHING RETURNING true",
            *checkin.values(),
        )
        return bool(inserted)
