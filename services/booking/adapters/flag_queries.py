"""Booking's SQL for operators' decisions on visits a suspension held (the flagged list).

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.booking.adapters.guards import guarded
from services.booking.service_layer.records import Row


class FlagQueries:
    """Queries about flagged visits on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def flagged_visits(self, limit: int, offset: int) -> list[Row]:
        """Visits a suspension held and no operator has decided yet, soonest first, with
        both people's names and standing, and their request's status now."""
        rows = await self.conn.fetch(
            "SELECT b.booking_id, b.request_id, b.helper_id, b.neighbour_id, b.neighbourhood,"
            " b.skill, b.starts_at, b.hours, b.status, b.held, b.flagged, b.cancelled_at,"
            " b.cancelled_by, b.cancel_reason,"
            " h.display_name AS helper_name, n.display_name AS neighbour_name,"
            " coalesce(hs.suspended, false) AS helper_suspended,"
            " coalesce(ns.suspended, false) AS neighbour_suspended,"
            " r.status AS request_status"
            " FROM bookings b JOIN requests r USING (request_id)"
            " LEFT JOIN people h ON h.person_id = b.helper_id"
            " LEFT JOIN people n ON n.person_id = b.neighbour_id"
            " LEFT JOIN standing hs ON hs.person_id = b.helper_id"
            " LEFT JOIN standing ns ON ns.person_id = b.neighbour_id"
            " WHERE b.flagged ORDER BY b.starts_at, b.seq LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [dict(row) for row in rows]

    async def suspended_of(self, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, bool]:
        """Whether each person is suspended now, their standing rows shared-locked until the
        transaction ends: a suspension arriving meanwhile waits for this decision, and then
        finds (and holds) a visit it keeps."""
        rows = await self.conn.fetch(
            "SELECT person_id, suspended FROM standing WHERE person_id = ANY($1::uuid[])"
            " ORDER BY person_id FOR SHARE",
            list(person_ids),
        )
        found = {row["person_id"]: bool(row["suspended"]) for row in rows}
        return {person_id: found.get(person_id, False) for person_id in person_ids}

    async def clear_flag(self, booking_id: uuid.UUID) -> None:
        """Take a visit off the flagged list: an operator decided it."""
        await self.conn.execute(
            "UPDATE bookings SET flagged = false WHERE booking_id = $1", booking_id
        )

    async def keep_booking(self, booking: Row, hours: list[datetime]) -> None:
        """Confirm a held visit again: its helper's hours taken back, the booking confirmed
        and off the flagged list, its request booked and the request's open offers withdrawn.

        Raises:
            HoursTaken: The helper has another visit in one of these hours.
            AlreadyBooked: The request has another active booking.
        """
        with guarded():
            await self.conn.execute(
                "INSERT INTO helper_hours (helper_id, hour, booking_id)"
                " SELECT $1, hour, $2 FROM unnest($3::timestamptz[]) AS hour",
                booking["helper_id"],
                booking["booking_id"],
                hours,
            )
            await self.conn.execute(
                "UPDATE bookings SET status = 'confirmed', held = false, flagged = false,"
                " cancelled_at = NULL, cancelled_by = NULL, cancel_reason = NULL,"
                " late_cancel = NULL WHERE booking_id = $1",
                booking["booking_id"],
            )
        await self.conn.execute(
            "UPDATE requests SET status = 'booked' WHERE request_id = $1", booking["request_id"]
        )
        await self.conn.execute(
            "UPDATE offers SET status = 'withdrawn' WHERE request_id = $1 AND status = 'open'",
            booking["request_id"],
        )
