"""The gateway's SQL for erasing a person: a mixin of ``PostgresUnitOfWork`` (one
transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

import asyncpg

from shared.contracts.redaction import redacted_document


class ErasureStatements:
    """What an erasure reads and changes, in the unit of work's transaction."""

    #: The unit of work's connection, in its transaction.
    _connection: Callable[[], Awaitable[asyncpg.Connection]]

    async def erased_among(self, people: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these people's accounts were deleted."""
        if not people:
            return set()
        conn = await self._connection()
        rows = await conn.fetch(
            "SELECT person_id FROM erased_people WHERE person_id = ANY($1::uuid[])", list(people)
        )
        return {row["person_id"] for row in rows}

    async def erase_person(self, person_id: uuid.UUID, erased_at: datetime) -> int:
        """Forget where the person lives and take every name and text out of the webhook
        bodies that name them (delivered or not: the delivery log keeps its lines); return
        how many bodies changed. Idempotent."""
        conn = await self._connection()
        await conn.execute(
            "INSERT INTO erased_people (person_id, erased_at) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING",
            person_id,
            erased_at,
        )
        await conn.execute("DELETE FROM people_places WHERE person_id = $1", person_id)
        rows = await conn.fetch(
            "SELECT id, body FROM webhook_queue"
            " WHERE position(convert_to($1, 'UTF8') IN body) > 0 ORDER BY id FOR UPDATE",
            str(person_id),
        )
        changed = [
            (row["id"], body)
            for row in rows
            if (body := redacted_document(row["body"])) is not None
        ]
        if changed:
            await conn.execute(
                "UPDATE webhook_queue SET body = c.body"
                " FROM unnest($1::bigint[], $2::bytea[]) AS c(id, body)"
                " WHERE webhook_queue.id = c.id",
                [row_id for row_id, _ in changed],
                [body for _, body in changed],
            )
        return len(changed)
