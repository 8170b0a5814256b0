"""Booking's SQL for people: accounts, sessions, weekly hours, idempotency records and the
standing trust publishes.

A mixin of ``Repository`` (which owns the connection and the transaction).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.booking.adapters.review_queries import held_for_review
from services.booking.adapters.session_cache import (
    SESSIONS_CHANNEL,
    person_signed_out,
    token_signed_out,
)
from services.booking.service_layer.records import Row
from shared.contracts import utc_now


def row_or_none(record: asyncpg.Record | None) -> Row | None:
    """A record as a dict, or None."""
    return dict(record) if record is not None else None


class PeopleQueries:
    """Queries about people on ``self.conn``; the caller owns the transaction."""

    conn: asyncpg.Connection

    # -- people ------------------------------------------------------------------------
    async def add_person(self, person: Row) -> bool:
        """Insert a person; False when the email or the sign-in phone is taken."""
        columns = ", ".join(person)
        marks = ", ".join(f"${index}" for index in range(1, len(person) + 1))
        try:
            async with self.conn.transaction():  # a savepoint: the caller's transaction lives on
                await self.conn.execute(
                    f"INSERT INTO people ({columns}) VALUES ({marks})", *person.values()
                )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def person(self, person_id: uuid.UUID) -> Row | None:
        """A person's whole record, with their suspension (by trust, or held for review)."""
        return row_or_none(
            await self.conn.fetchrow(
                "SELECT p.*, coalesce(s.suspended, false)"
                f" OR {held_for_review('p.person_id')} AS suspended FROM people p"
                " LEFT JOIN standing s USING (person_id) WHERE p.person_id = $1",
                person_id,
            )
        )

    async def person_by_email(self, email: str) -> Row | None:
        """A person found by email, whatever its case."""
        return row_or_none(
            await self.conn.fetchrow("SELECT * FROM people WHERE lower(email) = lower($1)", email)
        )

    async def person_by_phone(self, phone: str) -> Row | None:
        """A person found by the mobile number they sign in with (E.164, as stored)."""
        return row_or_none(
            await self.conn.fetchrow("SELECT * FROM people WHERE sign_in_phone = $1", phone)
        )

    async def sign_in_phone_taken(self, person: Row) -> bool:
        """Whether another account signs in with ``person``'s phone (why an insert failed)."""
        if not person.get("sign_in_phone"):
            return False
        found = await self.conn.fetchval(
            "SELECT 1 FROM people WHERE sign_in_phone = $1 AND person_id <> $2",
            person["sign_in_phone"],
            person["person_id"],
        )
        return found is not None

    async def person_exists(self, person_id: uuid.UUID) -> bool:
        """Whether a person has an account here (not deleted). The row is share-locked until
        the transaction ends, so an erasure waits for a session being opened, then ends it."""
        found = await self.conn.fetchval(
            "SELECT 1 FROM people WHERE person_id = $1 AND kind <> 'erased' FOR SHARE", person_id
        )
        return found is not None

    async def replace_password_hash(self, person_id: uuid.UUID, old: str | None, new: str) -> None:
        """Store a new password hash, unless the old one changed meanwhile."""
        await self.conn.execute(
            "UPDATE people SET password_hash = $3 WHERE person_id = $1"
            " AND password_hash IS NOT DISTINCT FROM $2",
            person_id,
            old,
            new,
        )

    async def display_names(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Display names of people, by id."""
        rows = await self.conn.fetch(
            "SELECT person_id, display_name FROM people WHERE person_id = ANY($1::uuid[])",
            list(ids),
        )
        return {row["person_id"]: row["display_name"] for row in rows}

    async def add_session(self, digest: bytes, person_id: uuid.UUID) -> None:
        """Store a token's digest, made now by Kith's clock (which its age is measured by)."""
        await self.conn.execute(
            "INSERT INTO sessions (token_digest, person_id, created_at) VALUES ($1, $2, $3)",
            digest,
            person_id,
            utc_now(),
        )

    async def end_session(self, digest: bytes, person_id: uuid.UUID) -> None:
        """Delete one of the person's sessions; every booking process hears of it when the
        statement commits (``SESSIONS_CHANNEL``)."""
        await self.conn.execute(
            "WITH gone AS (DELETE FROM sessions WHERE token_digest = $1 AND person_id = $2)"
            f" SELECT pg_notify('{SESSIONS_CHANNEL}', $3)",
            digest,
            person_id,
            token_signed_out(digest),
        )

    async def end_sessions_of(self, person_id: uuid.UUID) -> None:
        """Delete every session of a person, telling every booking process likewise."""
        await self.conn.execute(
            "WITH gone AS (DELETE FROM sessions WHERE person_id = $1)"
            f" SELECT pg_notify('{SESSIONS_CHANNEL}', $2)",
            person_id,
            person_signed_out(person_id),
        )

    async def delete_sessions_older_than(self, days: int) -> int:
        """Delete the sessions created more than ``days`` ago; return how many went.

        Their tokens are refused already (see ``accounts.authenticate``): no process needs
        telling.
        """
        status = await self.conn.execute(
            "DELETE FROM sessions WHERE created_at < $2::timestamptz - make_interval(days => $1)",
            days,
            utc_now(),
        )
        return int(status.split()[-1])

    async def session(self, digest: bytes) -> Row | None:
        """The session of a token digest: ``person_id`` and ``created_at``."""
        return row_or_none(
            await self.conn.fetchrow(
                "SELECT person_id, created_at FROM sessions WHERE token_digest = $1", digest
            )
        )

    async def set_availability(
        self,
        person_id: uuid.UUID,
        rules: list[Row],
        start: datetime,
        end: datetime,
        hours: list[datetime],
        exceptions: list[Row] | None = None,
    ) -> None:
        """Replace a person's rules, dated exceptions and their expansion."""
        await self.conn.execute(
            "INSERT INTO availability (person_id, rules, horizon_start, horizon_end, hours,"
            " exceptions) VALUES ($1, $2::jsonb, $3, $4, $5, $6::jsonb)"
            " ON CONFLICT (person_id) DO UPDATE SET"
            " rules = excluded.rules, horizon_start = excluded.horizon_start,"
            " horizon_end = excluded.horizon_end, hours = excluded.hours,"
            " exceptions = excluded.exceptions, updated_at = now()",
            person_id,
            json.dumps(rules),
            start,
            end,
            hours,
            json.dumps(exceptions or []),
        )

    async def availability(self, person_id: uuid.UUID) -> Row | None:
        """A person's rules and expanded hours."""
        row = row_or_none(
            await self.conn.fetchrow("SELECT * FROM availability WHERE person_id = $1", person_id)
        )
        if row is not None:
            row["rules"] = json.loads(row["rules"])
            row["exceptions"] = json.loads(row["exceptions"])
        return row

    async def update_person(self, person_id: uuid.UUID, changes: Row) -> None:
        """Set some columns of a person (names come from the use case, never the caller)."""
        assignments = ", ".join(
            f"{column} = ${index}" for index, column in enumerate(changes, start=2)
        )
        await self.conn.execute(
            f"UPDATE people SET {assignments} WHERE person_id = $1", person_id, *changes.values()
        )

    # -- idempotency -------------------------------------------------------------------
    async def claim_idempotency_key(
        self,
        person_id: uuid.UUID,
        key: str,
        route: str,
        body_digest: bytes,
        now: datetime,
        expired_before: datetime,
    ) -> Row | None:
        """Claim a key for this transaction; the stored first answer when it was used before.

        A record made before ``expired_before`` counts as never made (the sweep deletes it
        later). A concurrent retry with the same key waits here on the primary key until the
        first transaction ends, then sees its answer (or claims the key if the first rolled
        back).
        """
        await self.conn.execute(
            "DELETE FROM idempotency_keys"
            " WHERE person_id = $1 AND key = $2 AND route = $3 AND created_at < $4",
            person_id,
            key,
            route,
            expired_before,
        )
        inserted = await self.conn.fetchval(
            "INSERT INTO idempotency_keys"
            " (person_id, key, route, body_digest, status, response, created_at)"
            " VALUES ($1, $2, $3, $4, 0, '', $5) ON CONFLICT DO NOTHING RETURNING true",
            person_id,
            key,
            route,
            body_digest,
            now,
        )
        if inserted:
            return None
        row = await self.conn.fetchrow(
            "SELECT body_digest, status, response FROM idempotency_keys"
            " WHERE person_id = $1 AND key = $2 AND route = $3",
            person_id,
            key,
            route,
        )
        assert row is not None  # deleted only by this statement's kin, under the same lock
        return {
            "body_digest": row["body_digest"],
            "status": row["status"],
            "response": row["response"],
        }

    async def delete_idempotency_keys_before(self, before: datetime) -> int:
        """Delete the idempotency records made before ``before``; return how many went."""
        status = await self.conn.execute(
            "DELETE FROM idempotency_keys WHERE created_at < $1", before
        )
        return int(status.split()[-1])

    async def save_idempotent_response(
        self, person_id: uuid.UUID, key: str, route: str, status: int, response: str
    ) -> None:
        """Store the answer to a claimed key, in the transaction that made the change."""
        await self.conn.execute(
            "UPDATE idempotency_keys SET status = $4, response = $5"
            " WHERE person_id = $1 AND key = $2 AND route = $3",
            person_id,
            key,
            route,
            status,
            response,
        )

    async def set_standing(self, person_id: uuid.UUID, standing: Row, as_of: datetime) -> bool:
        """Store trust's standing of a person unless a newer one is held; True when stored.

        ``standing`` holds ``suspended``, ``approved_skills`` (skill -> ISO expiry),
        ``late_cancellations`` and ``no_shows``.
        """
        stored = await self.conn.fetchval(
            "INSERT INTO standing (person_id, suspended, approved_skills, late_cancellations,"
            " no_shows, as_of) VALUES ($1, $2, $3::jsonb, $4, $5, $6)"
            " ON CONFLICT (person_id) DO UPDATE SET suspended = excluded.suspended,"
            " approved_skills = excluded.approved_skills,"
            " late_cancellations = excluded.late_cancellations, no_shows = excluded.no_shows,"
            " as_of = excluded.as_of WHERE standing.as_of <= excluded.as_of RETURNING true",
            person_id,
            standing["suspended"],
            json.dumps(standing["approved_skills"]),
            standing["late_cancellations"],
            standing["no_shows"],
            as_of,
        )
        return bool(stored)

    async def standing(self, person_id: uuid.UUID) -> Row:
        """Trust's latest word on a person, for operators: suspension, skills, counts."""
        row = await self.conn.fetchrow(
            "SELECT suspended, approved_skills, late_cancellations, no_shows FROM standing"
            " WHERE person_id = $1",
            person_id,
        )
        if row is None:
            return {
                "suspended": False,
                "approved_skills": {},
                "late_cancellations": 0,
                "no_shows": 0,
            }
        return {**dict(row), "approved_skills": json.loads(row["approved_skills"])}

    async def is_suspended(self, person_id: uuid.UUID) -> bool:
        """Whether trust has suspended this person, or they wait for an operator's review."""
        return bool(
            await self.conn.fetchval(
                "SELECT coalesce((SELECT suspended FROM standing WHERE person_id = $1), false)"
                f" OR {held_for_review('$1')}",
                person_id,
            )
        )
