"""The unit of work on trust's own PostgreSQL database (asyncpg)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

import asyncpg

from services.trust.adapters.erasure import ErasureStatements
from services.trust.domain.concerns import Concern
from services.trust.domain.relationship import Relationship, Stage
from services.trust.domain.standing import Standing, StepRecord
from services.trust.service_layer.ports import TrustUnitOfWork
from shared.contracts import Envelope, pair_key
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import (
    CheckInSubmitted,
    ConcernOutcome,
    ConcernRaised,
    SeeAgain,
    VettingOutcome,
)
from shared.postgres import RelayBell, add_to_outbox, add_tombstones, first_delivery

_RELATIONSHIP_COLUMNS = (
    "helper_id, neighbour_id, neighbourhood, stage, visits, hours_together, first_visit_at,"
    " last_visit_at, cancellations_by_helper, cancellations_by_neighbour, no_shows_by_helper,"
    " no_shows_by_neighbour, helper_see_again, neighbour_see_again"
)


class PostgresUnitOfWork(ErasureStatements, TrustUnitOfWork):
    """Trust's state on one connection inside one transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.pending: list[Envelope[Any]] = []
        self.tombstones: list[tuple[str, bytes]] = []

    async def first_delivery(self, consumer: str, event_id: uuid.UUID) -> bool:
        return await first_delivery(self._conn, consumer, event_id)

    async def relationship(self, pair_id: str) -> Relationship | None:
        row = await self._conn.fetchrow(
            f"SELECT {_RELATIONSHIP_COLUMNS} FROM relationships WHERE pair_id = $1 FOR UPDATE",
            pair_id,
        )
        return None if row is None else _relationship(row)

    async def save_relationship(self, relationship: Relationship, *, new: bool) -> None:
        r = relationship
        values = (
            r.pair_id,
            r.helper_id,
            r.neighbour_id,
            r.neighbourhood,
            r.stage.value,
            r.visits,
            r.hours_together,
            r.first_visit_at,
            r.last_visit_at,
            r.cancellations_by_helper,
            r.cancellations_by_neighbour,
            r.no_shows_by_helper,
            r.no_shows_by_neighbour,
            None if r.helper_see_again is None else r.helper_see_again.value,
            None if r.neighbour_see_again is None else r.neighbour_see_again.value,
            r.matchable,
        )
        if new:
            # A racing insert of the same pair fails here; the consumer retries the event and
            # then finds the row.
            await self._conn.execute(
                f"INSERT INTO relationships (pair_id, {_RELATIONSHIP_COLUMNS}, matchable)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                *values,
            )
            return
        await self._conn.execute(
            "UPDATE relationships SET helper_id = $2, neighbour_id = $3, neighbourhood = $4,"
            " stage = $5, visits = $6, hours_together = $7, first_visit_at = $8,"
            " last_visit_at = $9, cancellations_by_helper = $10, cancellations_by_neighbour = $11,"
            " no_shows_by_helper = $12, no_shows_by_neighbour = $13, helper_see_again = $14,"
            " neighbour_see_again = $15, matchable = $16, updated_at = now()"
            " WHERE pair_id = $1",
            *values,
        )

    async def stale_relationships(self, before: datetime, limit: int) -> list[Relationship]:
        rows = await self._conn.fetch(
            f"SELECT {_RELATIONSHIP_COLUMNS} FROM relationships"
            " WHERE stage IN ('first_visit', 'regular') AND last_visit_at < $1"
            " ORDER BY last_visit_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            before,
            limit,
        )
        return [_relationship(row) for row in rows]

    async def count_visit(self, booking_id: uuid.UUID, pair_id: str) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO counted_visits (booking_id, pair_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            booking_id,
            pair_id,
        )
        return bool(inserted)

    async def record_checkin(self, checkin: CheckInSubmitted, *, submitted_at: datetime) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO checkins (checkin_id, booking_id, pair_id, author_id, about_id,"
            " see_again, as_agreed, submitted_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING true",
            checkin.checkin_id,
            checkin.booking_id,
            pair_key(checkin.helper_id, checkin.neighbour_id),
            checkin.author_id,
            checkin.about_id,
            checkin.see_again.value,
            checkin.as_agreed.value,
            submitted_at,
        )
        return bool(inserted)

    async def record_vetting_step(
        self,
        event_id: uuid.UUID,
        person_id: uuid.UUID,
        step: VettingStep,
        *,
        outcome: VettingOutcome,
        recorded_by: str,
        recorded_at: datetime,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO vetting_steps (event_id, person_id, step, outcome, recorded_by,"
            " recorded_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            event_id,
            person_id,
            step.value,
            outcome.value,
            recorded_by,
            recorded_at,
        )

    async def latest_steps(self, person_id: uuid.UUID) -> dict[VettingStep, StepRecord]:
        rows = await self._conn.fetch(
            "SELECT DISTINCT ON (step) step, outcome, recorded_at FROM vetting_steps"
            " WHERE person_id = $1 ORDER BY step, recorded_at DESC, event_id",
            person_id,
        )
        return {
            VettingStep(row["step"]): StepRecord(VettingOutcome(row["outcome"]), row["recorded_at"])
            for row in rows
        }

    async def set_skills(
        self,
        person_id: uuid.UUID,
        *,
        profile: list[Skill] | None = None,
        vetting: list[Skill] | None = None,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO people (person_id, profile_skills, vetting_skills)"
            " VALUES ($1, $2, coalesce($3, '{}'::text[]))"
            " ON CONFLICT (person_id) DO UPDATE SET"
            " profile_skills = coalesce($2, people.profile_skills),"
            " vetting_skills = coalesce($3, people.vetting_skills), updated_at = now()",
            person_id,
            None if profile is None else [skill.value for skill in profile],
            None if vetting is None else [skill.value for skill in vetting],
        )

    async def offered_skills(self, person_id: uuid.UUID) -> set[Skill]:
        skills = await self._conn.fetchval(
            "SELECT coalesce(profile_skills, vetting_skills) FROM people WHERE person_id = $1",
            person_id,
        )
        return {Skill(skill) for skill in skills or ()}

    async def standing(self, person_id: uuid.UUID) -> Standing:
        row = await self._conn.fetchrow(
            "SELECT suspended, approved_skills::text AS approved, late_cancellations, no_shows"
            " FROM people WHERE person_id = $1 FOR UPDATE",
            person_id,
        )
        if row is None:
            return Standing(person_id=person_id)
        approved = {
            Skill(skill): datetime.fromisoformat(at)
            for skill, at in json.loads(row["approved"]).items()
        }
        return Standing(
            person_id=person_id,
            suspended=row["suspended"],
            approved=approved,
            late_cancellations=row["late_cancellations"],
            no_shows=row["no_shows"],
        )

    async def save_standing(self, standing: Standing) -> None:
        approved = json.dumps(
            {skill.value: at.isoformat() for skill, at in standing.approved.items()}
        )
        await self._conn.execute(
            "INSERT INTO people (person_id, suspended, approved_skills, late_cancellations,"
            " no_shows, next_expiry) VALUES ($1, $2, $3::jsonb, $4, $5, $6)"
            " ON CONFLICT (person_id) DO UPDATE SET suspended = $2, approved_skills = $3::jsonb,"
            " late_cancellations = $4, no_shows = $5, next_expiry = $6, updated_at = now()",
            standing.person_id,
            standing.suspended,
            approved,
            standing.late_cancellations,
            standing.no_shows,
            standing.next_expiry,
        )

    async def relationships_of(self, person_id: uuid.UUID) -> list[Relationship]:
        rows = await self._conn.fetch(
            f"SELECT {_RELATIONSHIP_COLUMNS} FROM relationships"
            " WHERE helper_id = $1 OR neighbour_id = $1 ORDER BY pair_id FOR UPDATE",
            person_id,
        )
        return [_relationship(row) for row in rows]

    async def count_mark(self, booking_id: uuid.UUID, kind: str) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO counted_marks (booking_id, kind) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            booking_id,
            kind,
        )
        return bool(inserted)

    async def record_concern(self, concern: ConcernRaised, *, raised_at: datetime) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO concerns (concern_id, about_id, raised_by_id, raised_by_role,"
            " booking_id, raised_at) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT DO NOTHING RETURNING true",
            concern.concern_id,
            concern.about_id,
            concern.raised_by_id,
            concern.raised_by_role.value,
            concern.booking_id,
            raised_at,
        )
        return bool(inserted)

    async def concern(self, concern_id: uuid.UUID) -> Concern | None:
        row = await self._conn.fetchrow(
            "SELECT about_id, outcome FROM concerns WHERE concern_id = $1 FOR UPDATE",
            concern_id,
        )
        if row is None:
            return None
        outcome = None if row["outcome"] is None else ConcernOutcome(row["outcome"])
        return Concern(concern_id=concern_id, about_id=row["about_id"], outcome=outcome)

    async def resolve_concern(
        self,
        concern_id: uuid.UUID,
        outcome: ConcernOutcome,
        *,
        resolved_by: str,
        resolved_at: datetime,
    ) -> None:
        await self._conn.execute(
            "UPDATE concerns SET outcome = $2, resolved_by = $3, resolved_at = $4"
            " WHERE concern_id = $1",
            concern_id,
            outcome.value,
            resolved_by,
            resolved_at,
        )

    async def suspension(self, person_id: uuid.UUID) -> tuple[int, bool]:
        row = await self._conn.fetchrow(
            "SELECT (SELECT count(*) FROM concerns WHERE about_id = $1 AND outcome IS NULL)"
            " AS open, coalesce((SELECT removed FROM people WHERE person_id = $1), false)"
            " AS removed",
            person_id,
        )
        assert row is not None  # a SELECT of two scalar subqueries always returns a row
        return int(row["open"]), bool(row["removed"])

    async def set_removed(self, person_id: uuid.UUID) -> None:
        await self._conn.execute(
            "INSERT INTO people (person_id, removed) VALUES ($1, true)"
            " ON CONFLICT (person_id) DO UPDATE SET removed = true, updated_at = now()",
            person_id,
        )

    async def due_expiries(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self._conn.fetch(
            "SELECT person_id FROM people WHERE next_expiry <= $1"
            " ORDER BY next_expiry LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [row["person_id"] for row in rows]

    async def next_expiry(self) -> datetime | None:
        value: datetime | None = await self._conn.fetchval("SELECT min(next_expiry) FROM people")
        return value

    def publish(self, envelope: Envelope[Any]) -> None:
        self.pending.append(envelope)


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool, bell: RelayBell) -> AsyncIterator[TrustUnitOfWork]:
    """A unit of work in one transaction; its events reach the outbox just before commit,
    and ``bell`` rings the process's relay after it."""
    async with bell.after_commit(), pool.acquire() as proxy, proxy.transaction():
        # The pool hands out a proxy that behaves as the connection it wraps.
        conn = cast(asyncpg.Connection, proxy)
        uow = PostgresUnitOfWork(conn)
        yield uow
        await add_to_outbox(conn, uow.pending)
        await add_tombstones(conn, uow.tombstones)


def _relationship(row: asyncpg.Record) -> Relationship:
    return Relationship(
        helper_id=row["helper_id"],
        neighbour_id=row["neighbour_id"],
        neighbourhood=row["neighbourhood"],
        stage=Stage(row["stage"]),
        visits=row["visits"],
        hours_together=row["hours_together"],
        first_visit_at=row["first_visit_at"],
        last_visit_at=row["last_visit_at"],
        cancellations_by_helper=row["cancellations_by_helper"],
        cancellations_by_neighbour=row["cancellations_by_neighbour"],
        no_shows_by_helper=row["no_shows_by_helper"],
        no_shows_by_neighbour=row["no_shows_by_neighbour"],
        helper_see_again=_answer(row["helper_see_again"]),
        neighbour_see_again=_answer(row["neighbour_see_again"]),
    )


def _answer(value: str | None) -> SeeAgain | None:
    return None if value is None else SeeAgain(value)
