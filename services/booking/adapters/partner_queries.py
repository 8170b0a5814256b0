"""Booking's SQL for partners: referred people, their referrals, and partners' services.

A mixin of ``Repository`` (which owns the connection and the transaction), kept apart so
that neither module grows past what one reads in a sitting.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.booking.domain.errors import Conflict
from services.booking.service_layer.records import Row


class PartnerQueries:
    """Queries about partners on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def upsert_referred_person(self, person: Row) -> uuid.UUID:
        """The person a partner refers under ``partner_reference``, created or brought up to
        date (name and place) from the latest referral; their id."""
        person_id = await self.conn.fetchval(
            "INSERT INTO people (person_id, kind, partner_id, partner_reference, display_name,"
            " neighbourhood, cell, time_zone, skills, travel_radius_km, weekly_hour_cap,"
            " languages) VALUES ($1, 'referred', $2, $3, $4, $5, $6, $7, '{}', 0, 0, '{}')"
            " ON CONFLICT (partner_id, partner_reference) WHERE kind = 'referred'"
            " DO UPDATE SET display_name = excluded.display_name,"
            " neighbourhood = excluded.neighbourhood, cell = excluded.cell"
            " RETURNING person_id",
            person["person_id"],
            person["partner_id"],
            person["partner_reference"],
            person["display_name"],
            person["neighbourhood"],
            person["cell"],
            person["time_zone"],
        )
        assert isinstance(person_id, uuid.UUID)
        return person_id

    async def referral_known(self, referral_id: uuid.UUID) -> bool:
        """Whether this referral has been honoured already."""
        return bool(
            await self.conn.fetchval(
                "SELECT true FROM referrals WHERE referral_id = $1", referral_id
            )
        )

    async def add_referral(self, referral: Row) -> None:
        """Record a referral and its consent.

        Raises:
            Conflict: Another transaction recorded it meanwhile (the consumer retries the
                event, and then finds it known).
        """
        columns = list(referral)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        try:
            await self.conn.execute(
                f"INSERT INTO referrals ({', '.join(columns)}) VALUES ({marks})",
                *referral.values(),
            )
        except asyncpg.UniqueViolationError as error:
            raise Conflict(f"referral {referral['referral_id']} is recorded already") from error

    async def referrals_of(self, person_id: uuid.UUID) -> list[Row]:
        """A referred person's referrals with their consent, oldest first."""
        rows = await self.conn.fetch(
            "SELECT referral_id, partner_id, partner_reference, series_id, consent_given_at,"
            " consent_method, consent_recorded_by, referred_at FROM referrals"
            " WHERE person_id = $1 ORDER BY referred_at, received_at",
            person_id,
        )
        return [dict(row) for row in rows]

    async def partner_name(self, partner_id: uuid.UUID) -> str | None:
        """The partner's name as its latest service announced it (a partner that only
        refers people has not told booking its name)."""
        name = await self.conn.fetchval(
            "SELECT name FROM partner_services WHERE partner_id = $1 ORDER BY as_of DESC LIMIT 1",
            partner_id,
        )
        return name if isinstance(name, str) else None

    async def partner_service(self, helper_id: uuid.UUID) -> Row | None:
        """The partner's service answering as ``helper_id``, if any."""
        row = await self.conn.fetchrow(
            "SELECT * FROM partner_services WHERE helper_id = $1", helper_id
        )
        return dict(row) if row is not None else None

    async def person_kind(self, person_id: uuid.UUID) -> tuple[str, uuid.UUID | None] | None:
        """A person's kind and partner, locked until the transaction ends; None if unknown."""
        row = await self.conn.fetchrow(
            "SELECT kind, partner_id FROM people WHERE person_id = $1 FOR UPDATE", person_id
        )
        return None if row is None else (row["kind"], row["partner_id"])

    async def upsert_partner_service(self, service: Row, as_of: datetime) -> bool:
        """Store a service as announced, unless a newer announcement is held; True if stored.

        Its helper identity gets a person record too (named after the partner), so bookings
        with it read like any other.
        """
        stored = await self.conn.fetchval(
            "INSERT INTO partner_services (helper_id, partner_id, name, skills, neighbourhoods,"
            " active, as_of) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (helper_id) DO UPDATE SET name = excluded.name,"
            " skills = excluded.skills, neighbourhoods = excluded.neighbourhoods,"
            " active = excluded.active, as_of = excluded.as_of"
            " WHERE partner_services.as_of <= excluded.as_of RETURNING true",
            service["helper_id"],
            service["partner_id"],
            service["name"],
            service["skills"],
            service["neighbourhoods"],
            service["active"],
            as_of,
        )
        if stored:
            await self.conn.execute(
                "UPDATE people SET display_name = $2, skills = $3 WHERE person_id = $1",
                service["helper_id"],
                service["name"],
                service["skills"],
            )
        return bool(stored)

    async def add_partner_service_person(self, service: Row) -> None:
        """The person record of a service's helper identity (before its first announcement)."""
        await self.conn.execute(
            "INSERT INTO people (person_id, kind, partner_id, display_name, time_zone, skills,"
            " travel_radius_km, weekly_hour_cap, languages)"
            " VALUES ($1, 'partner_service', $2, $3, 'UTC', $4, 0, 0, '{}')",
            service["helper_id"],
            service["partner_id"],
            service["name"],
            service["skills"],
        )
