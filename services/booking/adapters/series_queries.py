"""Booking's SQL for series: the rule and state of each, and booking their occurrences with
the helper who took one on."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.adapters.review_queries import held_for_review
from services.booking.domain.errors import AlreadyBooked, HoursTaken
from services.booking.service_layer.records import Row
from shared.contracts import Envelope

#: Columns of ``series`` a use case may set.
_SETTABLE = frozenset(
    {"made_until", "next_starts_at", "regular_helper_id", "stepped_back", "status"}
)


class SeriesQueries:
    """Series queries; mixed into ``Repository``, on its connection."""

    conn: asyncpg.Connection
    #: ``Repository.book``: the accept's one statement, reused for an occurrence.
    book: Callable[..., Awaitable[None]]

    async def add_series(self, series: Row) -> None:
        """Store a new series' rule and how far it is made."""
        columns = list(series)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        await self.conn.execute(
            f"INSERT INTO series ({', '.join(columns)}) VALUES ({marks})", *series.values()
        )

    async def series_rule(self, series_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        """A series' rule and state, optionally locked until the transaction ends."""
        suffix = " FOR UPDATE" if lock else ""
        record = await self.conn.fetchrow(
            f"SELECT * FROM series WHERE series_id = $1{suffix}", series_id
        )
        return dict(record) if record is not None else None

    async def series_to_make(self, horizon_end: datetime, limit: int) -> list[uuid.UUID]:
        """Active series whose next occurrence starts before ``horizon_end``, soonest first;
        not those of a suspended neighbour (nothing is asked for them meanwhile)."""
        rows = await self.conn.fetch(
            "SELECT series_id FROM series WHERE status = 'active'"
            " AND next_starts_at < $1 AND NOT EXISTS (SELECT 1 FROM standing s"
            " WHERE s.person_id = series.neighbour_id AND s.suspended)"
            f" AND NOT {held_for_review('series.neighbour_id')}"
            " ORDER BY next_starts_at LIMIT $2",
            horizon_end,
            limit,
        )
        return [row["series_id"] for row in rows]

    async def update_series(self, series_id: uuid.UUID, **changes: Any) -> None:
        """Set some columns of a series (names from the use case, checked here)."""
        unknown = set(changes) - _SETTABLE
        if unknown:
            raise ValueError(f"not settable on a series: {sorted(unknown)}")
        assignments = ", ".join(
            f"{column} = ${index}" for index, column in enumerate(changes, start=2)
        )
        await self.conn.execute(
            f"UPDATE series SET {assignments} WHERE series_id = $1", series_id, *changes.values()
        )

    async def release_regular(self, helper_id: uuid.UUID) -> list[Row]:
        """Take the helper off every active series they are the regular of; return those
        series (each with its neighbour's ``neighbourhood``), locked."""
        rows = await self.conn.fetch(
            "UPDATE series s SET regular_helper_id = NULL FROM people p"
            " WHERE s.regular_helper_id = $1 AND s.status = 'active'"
            " AND p.person_id = s.neighbour_id RETURNING s.*, p.neighbourhood",
            helper_id,
        )
        return [dict(row) for row in rows]

    async def series_bookings_of(
        self, series_id: uuid.UUID, helper_id: uuid.UUID, after: datetime
    ) -> list[Row]:
        """The helper's confirmed bookings of the series' occurrences starting after
        ``after``, locked, soonest first."""
        rows = await self.conn.fetch(
            "SELECT b.* FROM bookings b JOIN requests r USING (request_id)"
            " WHERE r.series_id = $1 AND b.helper_id = $2 AND b.status = 'confirmed'"
            " AND b.starts_at > $3 ORDER BY b.starts_at FOR UPDATE OF b",
            series_id,
            helper_id,
            after,
        )
        return [dict(row) for row in rows]

    async def book_for_regular(
        self,
        offer: Row,
        booking: Row,
        hours: list[datetime],
        envelope: Envelope[Any],
    ) -> bool:
        """Book an occurrence with the series' regular helper, under a savepoint; False (and
        nothing written) when the occurrence is booked already or the helper holds one of
        its hours.

        The regular answered for the whole series, so the occurrence gets an offer already
        accepted: every booking has the offer it came from, and ``BookingConfirmed`` keeps
        its shape.
        """
        try:
            async with self.conn.transaction():
                await self.conn.execute(
                    "INSERT INTO offers (offer_id, request_id, helper_id, neighbour_id,"
                    " neighbourhood, skill, starts_at, hours, round, expires_at, reasons)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)",
                    offer["offer_id"],
                    offer["request_id"],
                    offer["helper_id"],
                    offer["neighbour_id"],
                    offer["neighbourhood"],
                    offer["skill"],
                    offer["starts_at"],
                    offer["hours"],
                    offer["round"],
                    offer["expires_at"],
                    offer["reasons"],
                )
                await self.book(
                    booking,
                    hours,
                    accepted="accepted",
                    withdrawn="withdrawn",
                    request_status="booked",
                    envelope=envelope,
                )
        except (asyncpg.UniqueViolationError, HoursTaken, AlreadyBooked):
            return False
        return True
