"""The gateway's state in its own PostgreSQL database (asyncpg)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

import asyncpg

from services.partners.adapters.erasure import ErasureStatements
from services.partners.domain.partner import Partner, Service
from services.partners.domain.scopes import Scopes
from services.partners.service_layer.ports import PartnersUnitOfWork
from services.partners.service_layer.records import (
    Attempt,
    FeedMessage,
    Rejection,
    WebhookJob,
)
from shared.contracts import Envelope
from shared.contracts.skills import Skill
from shared.postgres import RelayBell, add_to_outbox, first_delivery

#: NOTIFY channel: a partner was registered or changed (the projector reloads its directory).
PARTNERS_CHANNEL = "kith_partners"
#: NOTIFY channel: webhook deliveries were queued.
WEBHOOKS_CHANNEL = "kith_webhooks"

_PARTNER_COLUMNS = (
    "partner_id, name, key_hint, webhook_secret, webhook_url, scopes, helper_id,"
    " service_skills, service_areas, safeguarding, active, created_at"
)


def _partner(row: asyncpg.Record) -> Partner:
    service = (
        None
        if row["helper_id"] is None
        else Service(
            helper_id=row["helper_id"],
            skills=tuple(Skill(skill) for skill in row["service_skills"]),
            neighbourhoods=tuple(row["service_areas"]),
        )
    )
    return Partner(
        partner_id=row["partner_id"],
        name=row["name"],
        scopes=Scopes.from_json(json.loads(row["scopes"])),
        webhook_secret=row["webhook_secret"],
        key_hint=row["key_hint"],
        active=row["active"],
        service=service,
        safeguarding_neighbourhoods=frozenset(row["safeguarding"]),
        webhook_url=row["webhook_url"],
        created_at=row["created_at"],
    )


def _partner_values(partner: Partner) -> tuple[Any, ...]:
    service = partner.service
    return (
        partner.partner_id,
        partner.name,
        partner.key_hint,
        partner.webhook_secret,
        partner.webhook_url,
        json.dumps(partner.scopes.to_json()),
        None if service is None else service.helper_id,
        [] if service is None else [skill.value for skill in service.skills],
        [] if service is None else list(service.neighbourhoods),
        sorted(partner.safeguarding_neighbourhoods),
        partner.active,
    )


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool, bell: RelayBell) -> AsyncIterator[PartnersUnitOfWork]:
    """A unit of work in one transaction, begun by its first statement: most events the
    projector reads need nothing of the database, and pay for no connection nor transaction.
    ``bell`` rings the process's relay after a commit that wrote events."""
    async with bell.after_commit(), contextlib.AsyncExitStack() as stack:
        yield PostgresUnitOfWork(pool, stack)


class PostgresUnitOfWork(ErasureStatements):
    """Every read and write the gateway makes, in the transaction of one unit of work."""

    def __init__(self, pool: asyncpg.Pool, stack: contextlib.AsyncExitStack) -> None:
        self._pool = pool
        self._stack = stack
        self._conn: asyncpg.Connection | None = None

    async def _connection(self) -> asyncpg.Connection:
        """The unit of work's connection, in its transaction (begun on the first call; it
        commits, or rolls back on an error, when the unit of work ends)."""
        if self._conn is None:
            proxy = await self._stack.enter_async_context(self._pool.acquire())
            await self._stack.enter_async_context(proxy.transaction())
            # The pool hands out a proxy; the shared outbox and inbox helpers take a connection.
            self._conn = cast(asyncpg.Connection, proxy)
        return self._conn

    # Registry -----------------------------------------------------------------------------

    async def create_partner(
        self, partner: Partner, key_hash: str, events: Sequence[Envelope[Any]]
    ) -> None:
        """Insert a partner and, in the same transaction, the events announcing it."""
        conn = await self._connection()
        await conn.execute(
            f"INSERT INTO partners ({_PARTNER_COLUMNS.replace(', created_at', '')}, key_hash)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            *_partner_values(partner),
            key_hash,
        )
        await add_to_outbox(conn, events)
        await conn.execute(f"NOTIFY {PARTNERS_CHANNEL}")

    async def save_partner(self, partner: Partner, events: Sequence[Envelope[Any]]) -> None:
        """Update a partner and write the events its change causes, together."""
        conn = await self._connection()
        await conn.execute(
            "UPDATE partners SET name = $2, key_hint = $3, webhook_secret = $4,"
            " webhook_url = $5, scopes = $6, helper_id = $7, service_skills = $8,"
            " service_areas = $9, safeguarding = $10, active = $11, updated_at = now()"
            " WHERE partner_id = $1",
            *_partner_values(partner),
        )
        await add_to_outbox(conn, events)
        await conn.execute(f"NOTIFY {PARTNERS_CHANNEL}")

    async def partner(self, partner_id: uuid.UUID) -> Partner | None:
        """One partner, active or not."""
        conn = await self._connection()
        row = await conn.fetchrow(
            f"SELECT {_PARTNER_COLUMNS} FROM partners WHERE partner_id = $1", partner_id
        )
        return None if row is None else _partner(row)

    async def partners(self, *, active_only: bool = False) -> list[Partner]:
        """Every partner, oldest first."""
        conn = await self._connection()
        rows = await conn.fetch(
            f"SELECT {_PARTNER_COLUMNS} FROM partners"
            " WHERE active OR NOT $1 ORDER BY created_at, partner_id",
            active_only,
        )
        return [_partner(row) for row in rows]

    async def partner_by_key_hash(self, key_hash: str) -> tuple[Partner, str] | None:
        """The partner holding the key with this hash, and the stored hash to compare."""
        conn = await self._connection()
        row = await conn.fetchrow(
            f"SELECT {_PARTNER_COLUMNS}, key_hash FROM partners WHERE key_hash = $1", key_hash
        )
        return None if row is None else (_partner(row), row["key_hash"])

    async def partner_key_hash(self, partner_id: uuid.UUID) -> tuple[Partner, str] | None:
        """The partner with this id, and the stored hash of its key."""
        conn = await self._connection()
        row = await conn.fetchrow(
            f"SELECT {_PARTNER_COLUMNS}, key_hash FROM partners WHERE partner_id = $1", partner_id
        )
        return None if row is None else (_partner(row), row["key_hash"])

    # Inbox --------------------------------------------------------------------------------

    async def accept(
        self, partner_id: uuid.UUID, partner_event_id: uuid.UUID, event: Envelope[Any], topic: str
    ) -> uuid.UUID:
        """Publish ``event`` (through the outbox) for a partner's message, once.

        Returns the id of the event the message became: the one given, or, for a message
        accepted before, the one it became then.
        """
        conn = await self._connection()
        # Keyed by partner: one partner cannot suppress another's message by reusing its id.
        if not await first_delivery(conn, f"partner-inbox:{partner_id}", partner_event_id):
            earlier = await conn.fetchval(
                "SELECT event_id FROM accepted WHERE partner_id = $1 AND partner_event_id = $2",
                partner_id,
                partner_event_id,
            )
            assert isinstance(earlier, uuid.UUID)
            return earlier
        await conn.execute(
            "INSERT INTO accepted (partner_id, partner_event_id, event_id, type, topic)"
            " VALUES ($1, $2, $3, $4, $5)",
            partner_id,
            partner_event_id,
            event.event_id,
            event.type,
            topic,
        )
        await add_to_outbox(conn, [event])
        return event.event_id

    async def reject(self, rejection: Rejection) -> None:
        """Remember a refused message for its partner to read."""
        r = rejection
        conn = await self._connection()
        await conn.execute(
            "INSERT INTO rejections (partner_id, partner_event_id, type, reason, source, topic,"
            ' partition, "offset") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
            r.partner_id,
            r.partner_event_id,
            r.type,
            r.reason,
            r.source,
            r.topic,
            r.partition,
            r.offset,
        )

    async def rejections(self, partner_id: uuid.UUID, limit: int) -> list[Rejection]:
        """A partner's own refused messages, newest first."""
        conn = await self._connection()
        rows = await conn.fetch(
            "SELECT partner_id, partner_event_id, type, reason, source, topic, partition,"
            ' "offset", received_at FROM rejections WHERE partner_id = $1'
            " ORDER BY id DESC LIMIT $2",
            partner_id,
            limit,
        )
        return [Rejection(**dict(row)) for row in rows]

    async def offer_made_to(self, offer_id: uuid.UUID, partner_id: uuid.UUID) -> bool:
        """Whether matching made this offer to the partner's service."""
        conn = await self._connection()
        found = await conn.fetchval(
            "SELECT true FROM partner_offers WHERE offer_id = $1 AND partner_id = $2",
            offer_id,
            partner_id,
        )
        return bool(found)

    # Projector ----------------------------------------------------------------------------

    async def remember_place(self, person_id: uuid.UUID, neighbourhood: str) -> None:
        """Where a person lives, by neighbourhood (the latest profile wins)."""
        conn = await self._connection()
        await conn.execute(
            "INSERT INTO people_places (person_id, neighbourhood) VALUES ($1, $2)"
            " ON CONFLICT (person_id) DO UPDATE SET neighbourhood = EXCLUDED.neighbourhood",
            person_id,
            neighbourhood,
        )

    async def place_of(self, person_id: uuid.UUID) -> str | None:
        """The neighbourhood a person lives in, if the gateway has seen their profile."""
        conn = await self._connection()
        value = await conn.fetchval(
            "SELECT neighbourhood FROM people_places WHERE person_id = $1", person_id
        )
        return None if value is None else str(value)

    async def remember_offer(
        self, offer_id: uuid.UUID, partner_id: uuid.UUID, request_id: uuid.UUID
    ) -> None:
        """Note an offer made to a partner's service, so its answer is admitted."""
        conn = await self._connection()
        await conn.execute(
            "INSERT INTO partner_offers (offer_id, partner_id, request_id) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            offer_id,
            partner_id,
            request_id,
        )

    async def enqueue_webhooks(self, messages: Sequence[FeedMessage]) -> int:
        """Queue one delivery per message; a message queued before is not queued again."""
        if not messages:
            return 0
        conn = await self._connection()
        inserted = await conn.fetch(
            "INSERT INTO webhook_queue (partner_id, key, event_id, type, body)"
            " SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[],"
            " $5::bytea[]) ON CONFLICT (partner_id, event_id) DO NOTHING RETURNING id",
            [m.partner_id for m in messages],
            [m.key.decode(errors="replace") for m in messages],
            [m.event_id for m in messages],
            [m.type for m in messages],
            [m.value for m in messages],
        )
        if inserted:
            await conn.execute(f"NOTIFY {WEBHOOKS_CHANNEL}")
        return len(inserted)

    # Webhooks -----------------------------------------------------------------------------

    async def rotate_webhook_secret(
        self, partner_id: uuid.UUID, secret: str, previous_until: datetime
    ) -> bool:
        """Sign with ``secret`` from now on, and with the current one too until
        ``previous_until``; False for an unknown partner."""
        conn = await self._connection()
        status = await conn.execute(
            "UPDATE partners SET previous_webhook_secret = webhook_secret,"
            " previous_secret_until = $3, webhook_secret = $2, updated_at = now()"
            " WHERE partner_id = $1",
            partner_id,
            secret,
            previous_until,
        )
        return bool(status == "UPDATE 1")

    async def claim_webhooks(self, limit: int, lease: timedelta, now: datetime) -> list[WebhookJob]:
        """Due deliveries, each the oldest pending one of its partner and key, leased.

        A pending delivery holds every later one with the same key, so a receiver sees a
        key's events in order even while an earlier one is being retried. SKIP LOCKED lets
        several workers claim at once without taking the same row.
        """
        conn = await self._connection()
        rows = await conn.fetch(
            "SELECT q.id, q.partner_id, p.webhook_url, p.webhook_secret, q.key, q.event_id,"
            " q.type, q.body, q.attempts,"
            " CASE WHEN p.previous_secret_until > $2 THEN p.previous_webhook_secret END"
            " AS previous_secret FROM webhook_queue q"
            " JOIN partners p USING (partner_id)"
            " WHERE q.state = 'pending' AND q.next_attempt_at <= $2"
            # A lease is about a live process, so it runs on the database's real time.
            " AND (q.leased_until IS NULL OR q.leased_until < now())"
            " AND p.webhook_url IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM webhook_queue e WHERE e.state = 'pending'"
            "   AND e.partner_id = q.partner_id AND e.key = q.key AND e.id < q.id)"
            " ORDER BY q.id LIMIT $1 FOR UPDATE OF q SKIP LOCKED",
            limit,
            now,
        )
        if not rows:
            return []
        await conn.execute(
            "UPDATE webhook_queue SET leased_until = now() + $2::interval,"
            " attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
            [row["id"] for row in rows],
            lease,
        )
        return [
            WebhookJob(
                delivery_id=row["id"],
                partner_id=row["partner_id"],
                url=row["webhook_url"],
                secrets=(
                    (row["webhook_secret"], row["previous_secret"])
                    if row["previous_secret"]
                    else (row["webhook_secret"],)
                ),
                key=row["key"],
                event_id=row["event_id"],
                type=row["type"],
                body=row["body"],
                attempt=row["attempts"] + 1,
            )
            for row in rows
        ]

    async def finish_attempt(
        self,
        job: WebhookJob,
        *,
        outcome: str,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
    ) -> None:
        """Record one attempt in the log and move its delivery on, together."""
        state = {"delivered": "delivered", "abandoned": "abandoned"}.get(outcome, "pending")
        conn = await self._connection()
        await conn.execute(
            "UPDATE webhook_queue SET state = $2, leased_until = NULL,"
            " next_attempt_at = COALESCE($3, next_attempt_at),"
            " finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END"
            " WHERE id = $1",
            job.delivery_id,
            state,
            next_attempt_at,
        )
        await conn.execute(
            "INSERT INTO webhook_attempts (delivery_id, partner_id, event_id, attempt,"
            " outcome, status_code, error, next_attempt_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            job.delivery_id,
            job.partner_id,
            job.event_id,
            job.attempt,
            outcome,
            status_code,
            error,
            next_attempt_at,
        )

    async def next_webhook_due(self) -> datetime | None:
        """When the earliest pending delivery is next due (None when none is pending)."""
        conn = await self._connection()
        value = await conn.fetchval(
            "SELECT min(greatest(next_attempt_at, coalesce(leased_until, next_attempt_at)))"
            " FROM webhook_queue WHERE state = 'pending'"
        )
        return value if isinstance(value, datetime) else None

    async def attempts(self, partner_id: uuid.UUID, limit: int) -> list[Attempt]:
        """A partner's delivery log, newest first."""
        conn = await self._connection()
        rows = await conn.fetch(
            "SELECT delivery_id, event_id, attempt, outcome, status_code, error,"
            " next_attempt_at, attempted_at FROM webhook_attempts WHERE partner_id = $1"
            " ORDER BY id DESC LIMIT $2",
            partner_id,
            limit,
        )
        return [Attempt(**dict(row)) for row in rows]
