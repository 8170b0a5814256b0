"""Booking's SQL for accounts held for review: the hashed contacts of erased people who were
suspended, and the reviews of sign-ups that matched them.

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.booking.service_layer.records import Row

#: SQL true while ``person`` (an expression naming a person id) is held for review.
HELD_FOR_REVIEW = (
    "EXISTS (SELECT 1 FROM reviews rv WHERE rv.person_id = {person} AND rv.cleared_at IS NULL)"
)


def held_for_review(person: str) -> str:
    """``HELD_FOR_REVIEW`` about the person id ``person`` (a column or a parameter)."""
    return HELD_FOR_REVIEW.format(person=person)


class ReviewQueries:
    """Review queries on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def keep_erased_contacts(
        self, person_id: uuid.UUID, digests: list[tuple[str, bytes]], standing: str, now: datetime
    ) -> None:
        """Keep the hashed contacts of a person erased while suspended or held."""
        await self.conn.executemany(
            "INSERT INTO erased_contacts (kind, digest, person_id, standing, erased_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            [(kind, digest, person_id, standing, now) for kind, digest in digests],
        )

    async def matches_erased_contact(self, digests: list[tuple[str, bytes]]) -> bool:
        """Whether any of these hashed contacts is one kept of an erased person."""
        return bool(
            await self.conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM erased_contacts c"
                " JOIN unnest($1::text[], $2::bytea[]) AS d(kind, digest)"
                " ON c.kind = d.kind AND c.digest = d.digest)",
                [kind for kind, _ in digests],
                [digest for _, digest in digests],
            )
        )

    async def open_review(self, person_id: uuid.UUID, review: str, now: datetime) -> None:
        """Hold a person for an operator's review."""
        await self.conn.execute(
            "INSERT INTO reviews (person_id, review, opened_at) VALUES ($1, $2, $3)",
            person_id,
            review,
            now,
        )

    async def is_held_for_review(self, person_id: uuid.UUID) -> bool:
        """Whether the person waits for an operator's review."""
        return bool(await self.conn.fetchval(f"SELECT {held_for_review('$1')}", person_id))

    async def pending_review(self, person_id: uuid.UUID) -> str | None:
        """What an operator is to review about the person (None: nothing)."""
        review: str | None = await self.conn.fetchval(
            "SELECT review FROM reviews WHERE person_id = $1 AND cleared_at IS NULL", person_id
        )
        return review

    async def clear_review(
        self, person_id: uuid.UUID, now: datetime, operator: str | None, reason: str
    ) -> bool:
        """Clear the person's pending review; False when there was none."""
        cleared = await self.conn.fetchval(
            "UPDATE reviews SET cleared_at = $2, cleared_by = $3, reason = $4"
            " WHERE person_id = $1 AND cleared_at IS NULL RETURNING true",
            person_id,
            now,
            operator,
            reason,
        )
        return bool(cleared)

    async def pending_reviews(self, limit: int, offset: int) -> list[Row]:
        """A page of the accounts waiting for review, oldest first."""
        rows = await self.conn.fetch(
            "SELECT rv.person_id, rv.review, rv.opened_at, p.display_name, p.neighbourhood"
            " FROM reviews rv JOIN people p USING (person_id)"
            " WHERE rv.cleared_at IS NULL AND p.kind <> 'erased'"
            " ORDER BY rv.opened_at, rv.person_id LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return [dict(row) for row in rows]
