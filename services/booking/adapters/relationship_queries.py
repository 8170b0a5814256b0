"""Booking's SQL for trust's pair records, kept for the people in each pair to read."""

from __future__ import annotations

import uuid

import asyncpg

from services.booking.service_layer.records import Row


class RelationshipQueries:
    """Relationship queries; mixed into ``Repository``, on its connection."""

    conn: asyncpg.Connection

    async def upsert_relationship(self, record: Row) -> None:
        """Keep trust's latest record of a pair (an older one never overwrites a newer)."""
        columns = list(record)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        updates = ", ".join(f"{column} = excluded.{column}" for column in columns[1:])
        await self.conn.execute(
            f"INSERT INTO relationships ({', '.join(columns)}) VALUES ({marks})"
            f" ON CONFLICT (pair_id) DO UPDATE SET {updates}"
            " WHERE relationships.as_of <= excluded.as_of",
            *record.values(),
        )

    async def relationships_of(
        self,
        person_id: uuid.UUID | None,
        limit: int = 1000,
        offset: int = 0,
        *,
        matchable_only: bool = False,
    ) -> list[Row]:
        """A page of the pair records of one person (or all, for ``None``)."""
        rows = await self.conn.fetch(
            "SELECT * FROM relationships WHERE ($1::uuid IS NULL OR helper_id = $1"
            " OR neighbour_id = $1) AND (matchable OR NOT $4)"
            " ORDER BY last_visit_at DESC NULLS LAST, pair_id LIMIT $2 OFFSET $3",
            person_id,
            limit,
            offset,
            matchable_only,
        )
        return [dict(row) for row in rows]
