"""Booking's SQL for people operators register on someone's behalf (assisted sign-up).

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

import uuid

import asyncpg

from services.booking.service_layer.records import AssistedSignUp


class AssistedQueries:
    """The record kept of each assisted sign-up."""

    conn: asyncpg.Connection

    async def add_assisted_sign_up(self, record: AssistedSignUp) -> None:
        """Keep who registered a person and the consent they gave, with the person."""
        await self.conn.execute(
            "INSERT INTO assisted_sign_ups (person_id, operator_id, operator, consent_method,"
            " consent_given_at, needs, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            record.person_id,
            record.operator_id,
            record.operator,
            record.consent_method,
            record.consent_given_at,
            record.needs,
            record.registered_at,
        )

    async def assisted_sign_up(self, person_id: uuid.UUID) -> AssistedSignUp | None:
        """How a person was registered by an operator; ``None`` if they signed up themselves."""
        row = await self.conn.fetchrow(
            "SELECT * FROM assisted_sign_ups WHERE person_id = $1", person_id
        )
        if row is None:
            return None
        return AssistedSignUp(
            person_id=row["person_id"],
            operator_id=row["operator_id"],
            operator=row["operator"],
            consent_method=row["consent_method"],
            consent_given_at=row["consent_given_at"],
            needs=list(row["needs"]),
            registered_at=row["registered_at"],
        )
