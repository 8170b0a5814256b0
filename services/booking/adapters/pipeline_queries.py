"""Booking's SQL for the operators' queues: helpers waiting for vetting, approvals about to
lapse, and welfare checks closed with an outcome.

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg

from services.booking.service_layer.records import Row


class PipelineQueries:
    """Operators' queue queries on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def vetting_candidates(self, lapse_by: datetime, limit: int) -> list[Row]:
        """Members offering skills, not suspended, who wait for an approval of a skill they
        offer or hold one ending by ``lapse_by``, with trust's approvals (skill: until) and
        every step booking recorded for them, oldest sign-up first.

        Approved helpers with nothing lapsing are left out here, not after the limit: however
        many signed up before an applicant, they never crowd them out of the list."""
        rows = await self.conn.fetch(
            "SELECT p.person_id, p.display_name, p.skills, p.neighbourhood, p.created_at,"
            " coalesce(s.approved_skills, '{}'::jsonb) AS approved_skills,"
            " coalesce((SELECT jsonb_agg(jsonb_build_object('step', v.step, 'outcome', v.outcome,"
            "   'evidence', v.evidence, 'reason', v.reason, 'recorded_by', v.recorded_by,"
            "   'recorded_at', v.recorded_at) ORDER BY v.recorded_at)"
            "   FROM vetting_records v WHERE v.person_id = p.person_id), '[]'::jsonb) AS steps"
            " FROM people p LEFT JOIN standing s USING (person_id)"
            " WHERE p.kind = 'member' AND cardinality(p.skills) > 0"
            " AND NOT coalesce(s.suspended, false)"
            " AND (EXISTS (SELECT 1 FROM unnest(p.skills) AS o(skill)"
            "       WHERE NOT coalesce(s.approved_skills, '{}'::jsonb) ? o.skill)"
            "   OR EXISTS (SELECT 1 FROM jsonb_each_text(s.approved_skills) AS a(skill, until)"
            "       WHERE a.until::timestamptz <= $2))"
            " ORDER BY p.created_at, p.person_id LIMIT $1",
            limit,
            lapse_by,
        )
        return [
            {
                **dict(row),
                "approved_skills": json.loads(row["approved_skills"]),
                "steps": json.loads(row["steps"]),
            }
            for row in rows
        ]

    async def welfare_open(self, booking_id: uuid.UUID) -> Row | None:
        """A welfare check (a neighbour's no-show) and its outcome if closed, locked."""
        record = await self.conn.fetchrow(
            "SELECT b.booking_id, b.neighbour_id, w.outcome FROM bookings b"
            " LEFT JOIN welfare_outcomes w USING (booking_id)"
            " WHERE b.booking_id = $1 AND b.status = 'no_show' AND b.no_show_absent = 'neighbour'"
            " FOR UPDATE OF b",
            booking_id,
        )
        return dict(record) if record is not None else None

    async def close_welfare_check(
        self, booking_id: uuid.UUID, outcome: str, note: str, by: str, now: datetime
    ) -> None:
        """Record what was done about a welfare check."""
        await self.conn.execute(
            "INSERT INTO welfare_outcomes (booking_id, outcome, note, closed_by, closed_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            booking_id,
            outcome,
            note,
            by,
            now,
        )

    async def welfare_outcomes(self, booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
        """The outcomes of those of these welfare checks that are closed."""
        rows = await self.conn.fetch(
            "SELECT booking_id, outcome, note, closed_by, closed_at FROM welfare_outcomes"
            " WHERE booking_id = ANY($1::uuid[])",
            booking_ids,
        )
        return {row["booking_id"]: dict(row) for row in rows}

    async def name_neighbourhoods(
        self, cells: list[str], name: str | None, by: str, now: datetime
    ) -> None:
        """Give ``cells`` the name ``name`` (``None``: forget their names)."""
        if name is None:
            await self.conn.execute(
                "DELETE FROM neighbourhood_names WHERE cell = ANY($1::text[])", cells
            )
            return
        await self.conn.execute(
            "INSERT INTO neighbourhood_names (cell, name, named_by, named_at)"
            " SELECT unnest($1::text[]), $2, $3, $4"
            " ON CONFLICT (cell) DO UPDATE SET name = excluded.name,"
            " named_by = excluded.named_by, named_at = excluded.named_at",
            cells,
            name,
            by,
            now,
        )

    async def neighbourhood_names(self) -> list[Row]:
        """Every named neighbourhood cell, by name."""
        rows = await self.conn.fetch(
            "SELECT cell, name, named_by, named_at FROM neighbourhood_names ORDER BY name, cell"
        )
        return [dict(row) for row in rows]
