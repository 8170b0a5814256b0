"""Booking's SQL for matching's answers to operators: candidate lists and directed offers.

A mixin of ``Repository`` (which owns the connection and the transaction); migration 028.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg

from services.booking.service_layer.records import Row


class CandidateQueries:
    """Candidate and direction queries on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def add_candidate_query(
        self, query_id: uuid.UUID, request_id: uuid.UUID, asked_by: str, now: datetime
    ) -> None:
        """Remember an operator's question, to keep matching's answer with it."""
        await self.conn.execute(
            "INSERT INTO operator_candidate_queries (query_id, request_id, asked_by, asked_at)"
            " VALUES ($1, $2, $3, $4)",
            query_id,
            request_id,
            asked_by,
            now,
        )

    async def answer_candidate_query(
        self,
        query_id: uuid.UUID,
        request_id: uuid.UUID,
        candidates: list[Row],
        passed_over: list[Row],
        at: datetime,
    ) -> bool:
        """Keep matching's answer with its question; False when booking asked no such one."""
        status = await self.conn.execute(
            "UPDATE operator_candidate_queries SET answered_at = $3, candidates = $4::jsonb,"
            " passed_over = $5::jsonb WHERE query_id = $1 AND request_id = $2",
            query_id,
            request_id,
            at,
            json.dumps(candidates, default=str),
            json.dumps(passed_over, default=str),
        )
        return bool(status != "UPDATE 0")

    async def latest_candidate_query(self, request_id: uuid.UUID) -> Row | None:
        """The request's latest question, with matching's answer when it came."""
        record = await self.conn.fetchrow(
            "SELECT query_id, asked_by, asked_at, answered_at, candidates, passed_over"
            " FROM operator_candidate_queries WHERE request_id = $1"
            " ORDER BY asked_at DESC, query_id LIMIT 1",
            request_id,
        )
        if record is None:
            return None
        row = dict(record)
        for name in ("candidates", "passed_over"):
            row[name] = json.loads(row[name]) if row[name] is not None else None
        return row

    async def add_direction(
        self,
        direction_id: uuid.UUID,
        request_id: uuid.UUID,
        helper_id: uuid.UUID,
        directed_by: str,
        now: datetime,
    ) -> None:
        """Remember an offer an operator directed to a helper."""
        await self.conn.execute(
            "INSERT INTO operator_directions"
            " (direction_id, request_id, helper_id, directed_by, directed_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            direction_id,
            request_id,
            helper_id,
            directed_by,
            now,
        )

    async def refuse_direction(self, direction_id: uuid.UUID, reason: str, at: datetime) -> bool:
        """Matching would not offer the request to the helper; False when no such direction."""
        status = await self.conn.execute(
            "UPDATE operator_directions SET refused_reason = $2, refused_at = $3"
            " WHERE direction_id = $1",
            direction_id,
            reason,
            at,
        )
        return bool(status != "UPDATE 0")

    async def directions_of(self, request_id: uuid.UUID, limit: int = 20) -> list[Row]:
        """The offers operators directed for the request, newest first, with the latest offer
        matching made the helper on an operator's word (once it has) and where it stands."""
        rows = await self.conn.fetch(
            "SELECT d.direction_id, d.helper_id, d.directed_by, d.directed_at,"
            " d.refused_reason, d.refused_at, o.offer_id, o.status AS offer_status,"
            " o.expires_at AS offer_expires_at"
            " FROM operator_directions d"
            " LEFT JOIN LATERAL (SELECT offer_id, status, expires_at FROM offers"
            "   WHERE offers.request_id = d.request_id AND offers.helper_id = d.helper_id"
            '   AND offers.reasons @> \'[{"code": "operator_chosen"}]\'::jsonb'
            "   ORDER BY offers.round DESC LIMIT 1) o"
            "   ON true"
            " WHERE d.request_id = $1 ORDER BY d.directed_at DESC LIMIT $2",
            request_id,
            limit,
        )
        return [dict(row) for row in rows]
