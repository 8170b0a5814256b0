"""Booking's SQL for deleting an account and for a person's export of what booking holds.

A mixin of ``Repository`` (which owns the connection and the transaction), kept apart so
that neither module grows past what one reads in a sitting.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.adapters.session_cache import SESSIONS_CHANNEL, person_signed_out
from services.booking.service_layer.records import Row
from shared.contracts.redaction import redacted_document

#: Columns of ``people`` that describe the person; all are emptied by an erasure.
_ERASED_PEOPLE_COLUMNS = (
    "email = NULL, sign_in_phone = NULL, display_name = NULL, password_hash = NULL,"
    " lat = NULL, lng = NULL, address = NULL, phone = NULL, accessibility_notes = NULL,"
    " neighbourhood = NULL, cell = NULL, partner_reference = NULL, skills = '{}',"
    " languages = '{}', travel_radius_km = 0, weekly_hour_cap = 0, time_zone = 'UTC'"
)


class ErasureQueries:
    """Erasure and export queries on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    async def person_to_erase(self, person_id: uuid.UUID) -> Row | None:
        """A person's row, locked until the transaction ends (so one erasure runs at a time)."""
        row = await self.conn.fetchrow(
            "SELECT * FROM people WHERE person_id = $1 FOR UPDATE", person_id
        )
        return None if row is None else dict(row)

    async def is_erased(self, person_id: uuid.UUID) -> bool:
        """Whether the person's account was deleted."""
        return bool(
            await self.conn.fetchval(
                "SELECT kind = 'erased' FROM people WHERE person_id = $1", person_id
            )
        )

    async def erasure(self, person_id: uuid.UUID) -> Row | None:
        """The record of a person's erasure, if they were erased."""
        row = await self.conn.fetchrow("SELECT * FROM erasures WHERE person_id = $1", person_id)
        return None if row is None else dict(row)

    async def upcoming_bookings_to_cancel(self, person_id: uuid.UUID, now: datetime) -> list[Row]:
        """The person's confirmed visits that have not started, on either side, locked."""
        rows = await self.conn.fetch(
            "SELECT * FROM bookings WHERE (helper_id = $1 OR neighbour_id = $1)"
            " AND status = 'confirmed' AND starts_at > $2 ORDER BY booking_id FOR UPDATE",
            person_id,
            now,
        )
        return [dict(row) for row in rows]

    async def open_requests_to_cancel(self, neighbour_id: uuid.UUID) -> list[Row]:
        """The neighbour's occurrences nobody has booked (open, unmatched or held), locked."""
        rows = await self.conn.fetch(
            "SELECT * FROM requests WHERE neighbour_id = $1"
            " AND status IN ('open', 'unmatched', 'held')"
            " ORDER BY request_id FOR UPDATE",
            neighbour_id,
        )
        return [dict(row) for row in rows]

    async def open_offers_to_decline(self, helper_id: uuid.UUID, now: datetime) -> list[Row]:
        """Offers to the helper still open and unexpired, locked."""
        rows = await self.conn.fetch(
            "SELECT * FROM offers WHERE helper_id = $1 AND status = 'open' AND expires_at > $2"
            " ORDER BY offer_id FOR UPDATE",
            helper_id,
            now,
        )
        return [dict(row) for row in rows]

    async def redact_outbox(
        self, person_id: uuid.UUID, redact: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> int:
        """Rewrite every kept event that names the person through ``redact``; return how many.

        The events keep their ids: a consumer that applied one never applies it again, and a
        broker that lost them gets the redacted copies.
        """
        rows = await self.conn.fetch(
            "SELECT id, envelope FROM outbox WHERE envelope IS NOT NULL"
            " AND position(convert_to($1, 'UTF8') IN envelope) > 0 ORDER BY id FOR UPDATE",
            str(person_id),
        )
        changed = [
            (row["id"], envelope)
            for row in rows
            if (envelope := redacted_document(row["envelope"], redact)) is not None
        ]
        if changed:
            await self.conn.execute(
                "UPDATE outbox SET envelope = c.envelope FROM unnest($1::bigint[], $2::bytea[])"
                " AS c(id, envelope) WHERE outbox.id = c.id",
                [row_id for row_id, _ in changed],
                [envelope for _, envelope in changed],
            )
        return len(changed)

    async def erase_personal_rows(self, person_id: uuid.UUID) -> None:
        """Empty the person's row and delete or empty every row that holds what they wrote,
        or what was written about them; end every session of theirs, telling every booking
        process at once (``SESSIONS_CHANNEL``)."""
        await self.conn.execute(
            f"UPDATE people SET kind = 'erased', {_ERASED_PEOPLE_COLUMNS} WHERE person_id = $1",
            person_id,
        )
        await self.conn.execute(
            "WITH gone AS (DELETE FROM sessions WHERE person_id = $1)"
            f" SELECT pg_notify('{SESSIONS_CHANNEL}', $2)",
            person_id,
            person_signed_out(person_id),
        )
        for statement in (
            "DELETE FROM availability WHERE person_id = $1",
            "DELETE FROM notification_preferences WHERE person_id = $1",
            "DELETE FROM push_subscriptions WHERE person_id = $1",
            "DELETE FROM emergency_contacts WHERE person_id = $1",
            # What they needed, as the operator who registered them noted it.
            "DELETE FROM assisted_sign_ups WHERE person_id = $1",
            # Links hold the email they were sent to.
            "DELETE FROM account_links WHERE person_id = $1",
            "DELETE FROM standing WHERE person_id = $1",
            # A sign-up or sign-in is kept under no person: its answer names them.
            "DELETE FROM idempotency_keys WHERE person_id = $1"
            " OR position($1::text IN response) > 0",
            "DELETE FROM checkins WHERE author_id = $1",
            "UPDATE checkins SET note = NULL WHERE about_id = $1 AND note IS NOT NULL",
            "UPDATE requests SET notes = NULL WHERE neighbour_id = $1 AND notes IS NOT NULL",
            "UPDATE bookings SET cancel_reason = NULL WHERE (helper_id = $1 OR neighbour_id = $1)"
            " AND cancel_reason IS NOT NULL",
            "UPDATE bookings SET no_show_note = NULL WHERE (helper_id = $1 OR neighbour_id = $1)"
            " AND no_show_note IS NOT NULL",
            "DELETE FROM vetting_reasons WHERE person_id = $1",
            "DELETE FROM vetting_records WHERE person_id = $1",
            "UPDATE welfare_outcomes SET note = '' WHERE booking_id IN (SELECT booking_id"
            " FROM bookings WHERE helper_id = $1 OR neighbour_id = $1)",
            "UPDATE concerns SET summary = NULL, reason = NULL"
            " WHERE about_id = $1 OR raised_by_id = $1",
            "UPDATE referrals SET partner_reference = NULL WHERE person_id = $1",
            # Their series end (nothing more is asked for them) and forget them as a regular.
            "UPDATE series SET notes = NULL, status = 'ended', next_starts_at = NULL"
            " WHERE neighbour_id = $1",
            "UPDATE series SET regular_helper_id = NULL WHERE regular_helper_id = $1",
            "UPDATE series SET stepped_back = array_remove(stepped_back, $1)"
            " WHERE $1 = ANY(stepped_back)",
        ):
            await self.conn.execute(statement, person_id)

    async def forget_standing(self, person_id: uuid.UUID) -> None:
        """Delete booking's copy of trust's standing of a person."""
        await self.conn.execute("DELETE FROM standing WHERE person_id = $1", person_id)

    async def record_erasure(
        self,
        person_id: uuid.UUID,
        erased_at: datetime,
        erased_by: str,
        operator: str | None,
        reason: str | None,
    ) -> Row:
        """Keep that the person was erased, when, by whom and why; return the record."""
        row = await self.conn.fetchrow(
            "INSERT INTO erasures (person_id, erased_at, erased_by, operator, reason)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING *",
            person_id,
            erased_at,
            erased_by,
            operator,
            reason,
        )
        assert row is not None  # an INSERT ... RETURNING returns its row
        return dict(row)

    # -- export --------------------------------------------------------------------------
    async def export_of(self, person_id: uuid.UUID) -> dict[str, list[Row]]:
        """Every row booking keeps of or by the person, by what it is, oldest first."""
        queries = {
            "requests": "SELECT * FROM requests WHERE neighbour_id = $1 ORDER BY seq",
            "series": "SELECT * FROM series WHERE neighbour_id = $1 ORDER BY created_at",
            "offers": "SELECT * FROM offers WHERE helper_id = $1 ORDER BY seq",
            "bookings": "SELECT * FROM bookings WHERE helper_id = $1 OR neighbour_id = $1"
            " ORDER BY starts_at, seq",
            "check_ins": "SELECT * FROM checkins WHERE author_id = $1 ORDER BY created_at",
            "concerns_raised": "SELECT * FROM concerns WHERE raised_by_id = $1 ORDER BY raised_at",
            "sessions": "SELECT created_at FROM sessions WHERE person_id = $1 ORDER BY created_at",
            "relationships": "SELECT * FROM relationships"
            " WHERE (helper_id = $1 OR neighbour_id = $1) AND matchable"
            " ORDER BY last_visit_at DESC NULLS LAST, pair_id",
            "referrals": "SELECT * FROM referrals WHERE person_id = $1 ORDER BY referred_at",
        }
        found: dict[str, list[Row]] = {}
        for name, query in queries.items():
            found[name] = [dict(row) for row in await self.conn.fetch(query, person_id)]
        return found
