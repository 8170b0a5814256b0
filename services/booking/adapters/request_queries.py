"""Booking's SQL for requests: each occurrence a neighbour asked for, and its status."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.adapters.people_queries import row_or_none
from services.booking.service_layer.records import Row
from shared.contracts import Envelope
from shared.postgres import (
    change_with_events,
)

#: The columns an occurrence of a request is inserted with, and their types.
_REQUEST_TYPES = {
    "request_id": "uuid",
    "series_id": "uuid",
    "occurrence": "int",
    "occurrences": "int",
    "neighbour_id": "uuid",
    "neighbourhood": "text",
    "cell": "text",
    "skill": "text",
    "starts_at": "timestamptz",
    "hours": "int",
    "preferred_helper_id": "uuid",
    "notes": "text",
}


class RequestQueries:
    """Request queries; mixed into ``Repository``, on its connection."""

    conn: asyncpg.Connection

    async def add_requests(self, rows: list[Row], envelopes: Sequence[Envelope[Any]]) -> None:
        """Insert the occurrences of one request and their events, in one statement."""
        columns = list(_REQUEST_TYPES)
        arrays = ", ".join(
            f"${index}::{_REQUEST_TYPES[column]}[]" for index, column in enumerate(columns, 1)
        )
        await change_with_events(
            self.conn,
            f"INSERT INTO requests ({', '.join(columns)}) SELECT * FROM unnest({arrays})",
            [[row[column] for row in rows] for column in columns],
            envelopes,
        )

    async def request(self, request_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        """One occurrence, with how many offers were made for it."""
        if lock:
            return row_or_none(
                await self.conn.fetchrow(
                    "SELECT * FROM requests WHERE request_id = $1 FOR UPDATE", request_id
                )
            )
        return row_or_none(
            await self.conn.fetchrow(
                "SELECT r.*, (SELECT count(*) FROM offers o WHERE o.request_id = r.request_id)"
                " AS offers_made FROM requests r WHERE r.request_id = $1",
                request_id,
            )
        )

    async def requests_of(self, neighbour_id: uuid.UUID, after: int, limit: int) -> list[Row]:
        """A neighbour's requests in the order they were made, after a cursor."""
        rows = await self.conn.fetch(
            "SELECT r.*, (SELECT count(*) FROM offers o WHERE o.request_id = r.request_id)"
            " AS offers_made FROM requests r WHERE neighbour_id = $1 AND seq > $2"
            " ORDER BY seq LIMIT $3",
            neighbour_id,
            after,
            limit,
        )
        return [dict(row) for row in rows]

    async def requests_with_status(self, status: str, after: int, limit: int) -> list[Row]:
        """Requests in one status, oldest first (the operators' waiting list)."""
        rows = await self.conn.fetch(
            "SELECT * FROM requests WHERE status = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            status,
            after,
            limit,
        )
        return [dict(row) for row in rows]

    async def series(self, series_id: uuid.UUID, *, lock: bool = False) -> list[Row]:
        """Every occurrence of a series, in order, optionally locked."""
        suffix = " FOR UPDATE" if lock else ""
        rows = await self.conn.fetch(
            f"SELECT * FROM requests WHERE series_id = $1 ORDER BY occurrence{suffix}",
            series_id,
        )
        return [dict(row) for row in rows]

    async def move_request(self, request_id: uuid.UUID, starts_at: datetime, hours: int) -> None:
        """A rescheduled visit moves its request too."""
        await self.conn.execute(
            "UPDATE requests SET starts_at = $2, hours = $3 WHERE request_id = $1",
            request_id,
            starts_at,
            hours,
        )

    async def set_request_status(self, request_id: uuid.UUID, status: str) -> None:
        """Move an occurrence to a new status."""
        await self.conn.execute(
            "UPDATE requests SET status = $2 WHERE request_id = $1", request_id, status
        )
