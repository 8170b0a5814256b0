"""Trust's SQL for erasing a person: a mixin of ``PostgresUnitOfWork`` (one transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

import asyncpg


class ErasureStatements:
    """What an erasure reads and changes, on ``self._conn`` in the unit of work's transaction."""

    _conn: asyncpg.Connection
    tombstones: list[tuple[str, bytes]]

    async def erased_among(self, people: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these people's accounts were deleted."""
        rows = await self._conn.fetch(
            "SELECT person_id FROM erased_people WHERE person_id = ANY($1::uuid[])", list(people)
        )
        return {row["person_id"] for row in rows}

    async def erase_person(self, person_id: uuid.UUID, erased_at: datetime) -> bool:
        """Erase what trust keeps of the person; False if they were erased before."""
        first = await self._conn.fetchval(
            "INSERT INTO erased_people (person_id, erased_at) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            person_id,
            erased_at,
        )
        await self.scrub(person_id)
        return bool(first)

    async def scrub(self, person_id: uuid.UUID) -> None:
        """Delete or empty what trust keeps of an erased person (again, for an event about
        them that arrived after their erasure).

        Their check-ins, vetting steps, skills and standing go; the notes others wrote about
        them and the texts of every concern by or about them are emptied; the concerns
        themselves stay (safeguarding), and the pairs stay, ended, for the other person's
        record.
        """
        for statement in (
            "DELETE FROM checkins WHERE author_id = $1",
            "UPDATE checkins SET note = NULL WHERE about_id = $1 AND note IS NOT NULL",
            "DELETE FROM vetting_steps WHERE person_id = $1",
            "UPDATE concerns SET summary = NULL, reason = NULL"
            " WHERE about_id = $1 OR raised_by_id = $1",
            "DELETE FROM people WHERE person_id = $1",
        ):
            await self._conn.execute(statement, person_id)

    def tombstone(self, topic: str, key: bytes) -> None:
        """Write a tombstone under ``key`` on ``topic`` when the unit of work commits, after
        its events."""
        self.tombstones.append((topic, key))
