"""The ledger's unit of work on its own PostgreSQL database."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import cast

import asyncpg

from services.ledger.domain.communities import Community, PotRule, community_id_for
from services.ledger.domain.postings import (
    Entry,
    Kind,
    Mode,
    Posting,
    Unbalanced,
    pot_account,
)
from services.ledger.domain.rules import Coverage, Visit
from services.ledger.service_layer.expenses import Expense, Receipt
from services.ledger.service_layer.ports import KnownVisit, LedgerUnitOfWork, ProviderObject

_COMMUNITY = (
    "SELECT c.*, coalesce((SELECT jsonb_object_agg(skill, rate_per_hour) FROM rates r"
    " WHERE r.community_id = c.community_id), '{}') AS rates FROM communities c"
)


def community_from(row: asyncpg.Record) -> Community:
    """A community's settings from its row (with ``rates`` as a JSON object)."""
    rates = row["rates"]
    if isinstance(rates, str):  # asyncpg reads jsonb as text
        rates = json.loads(rates)
    return Community(
        community_id=row["community_id"],
        modes=frozenset(Mode(mode) for mode in row["modes"]),
        currency=row["currency"],
        rates={str(skill): int(rate) for skill, rate in rates.items()},
        payer=row["payer"],
        pot_rule=PotRule(row["pot_rule"]),
        monthly_allowance_hours=row["monthly_allowance_hours"],
        late_cancel_percent=row["late_cancel_percent"],
        mileage_rate=row["mileage_rate"],
    )


def visit_from(row: asyncpg.Record) -> Visit:
    """A visit from its row."""
    return Visit(
        booking_id=row["booking_id"],
        request_id=row["request_id"],
        helper_id=row["helper_id"],
        neighbour_id=row["neighbour_id"],
        neighbourhood=row["neighbourhood"],
        skill=row["skill"],
        starts_at=row["starts_at"],
        hours=row["hours"],
        partner_id=row["partner_id"],
    )


class PostgresUnitOfWork(LedgerUnitOfWork):
    """``LedgerUnitOfWork`` on one connection inside one transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def community(self, community_id: str) -> Community | None:
        row = await self.conn.fetchrow(f"{_COMMUNITY} WHERE c.community_id = $1", community_id)
        return None if row is None else community_from(row)

    async def community_of(self, neighbourhood: str, *, lock: bool = False) -> Community:
        return await self.community_of_visit(neighbourhood, None, lock=lock)

    async def community_of_visit(
        self, neighbourhood: str, partner_id: uuid.UUID | None, *, lock: bool = False
    ) -> Community:
        row = await self.conn.fetchrow(
            "SELECT (SELECT community_id FROM community_partners WHERE partner_id = $2) AS partner,"
            " (SELECT community_id FROM community_cells WHERE neighbourhood = $1) AS cell",
            neighbourhood,
            partner_id,
        )
        community_id = community_id_for(
            partner_community=row["partner"] if row else None,
            cell_community=row["cell"] if row else None,
        )
        if lock:
            await self.community_of_id_lock(community_id)
        found = await self.community(community_id)
        assert found is not None, "the default community is made by the first migration"
        return found

    async def community_of_id_lock(self, community_id: str) -> None:
        await self.conn.execute(
            "SELECT 1 FROM communities WHERE community_id = $1 FOR UPDATE", community_id
        )

    async def record_visit(self, visit: Visit) -> None:
        await self.conn.execute(
            "INSERT INTO visits (booking_id, request_id, helper_id, neighbour_id, neighbourhood,"
            " skill, starts_at, hours, partner_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (booking_id) DO UPDATE SET starts_at = excluded.starts_at,"
            " hours = excluded.hours,"
            " partner_id = coalesce(excluded.partner_id, visits.partner_id)"
            " WHERE visits.status = 'booked'",
            visit.booking_id,
            visit.request_id,
            visit.helper_id,
            visit.neighbour_id,
            visit.neighbourhood,
            visit.skill,
            visit.starts_at,
            visit.hours,
            visit.partner_id,
        )

    async def known_visit(self, booking_id: uuid.UUID) -> KnownVisit | None:
        row = await self.conn.fetchrow("SELECT * FROM visits WHERE booking_id = $1", booking_id)
        return None if row is None else KnownVisit(visit_from(row), row["status"])

    async def set_visit_status(
        self, booking_id: uuid.UUID, status: str, *, unposted: str | None = None
    ) -> None:
        # A completed visit stays completed: a late-arriving cancellation changes nothing.
        await self.conn.execute(
            "UPDATE visits SET status = $2, unposted = $3"
            " WHERE booking_id = $1 AND (status <> 'completed' OR $2 = 'completed')",
            booking_id,
            status,
            unposted,
        )

    async def coverage(self, visit: Visit, community: Community, month_start: datetime) -> Coverage:
        pot = await self.balance(pot_account(community.community_id))
        # Only the visit's own neighbour can have asked: a request id asked for by anyone
        # else covers nothing.
        approved = await self.conn.fetchval(
            "SELECT status = 'approved' FROM pot_requests"
            " WHERE request_id = $1 AND neighbour_id = $2 AND community_id = $3",
            visit.request_id,
            visit.neighbour_id,
            community.community_id,
        )
        drawn = await self.conn.fetchval(
            "SELECT coalesce(sum(e.amount), 0) FROM postings p"
            " JOIN entries e ON e.posting_id = p.posting_id AND e.account = $4"
            " WHERE p.mode = 'gifted' AND p.community_id = $1 AND p.person_id = $2"
            " AND p.occurred_at >= $3 AND p.kind IN ('visit', 'late_cancellation', 'correction')",
            community.community_id,
            visit.neighbour_id,
            month_start,
            pot_account(community.community_id),
        )
        payer = await self.conn.fetchval(
            "SELECT payer FROM payers WHERE neighbour_id = $1", visit.neighbour_id
        )
        return Coverage(
            pot_minutes=pot,
            approved=bool(approved),
            drawn_this_month_minutes=-int(drawn),
            payer=payer,
        )

    async def post(self, posting: Posting) -> bool:
        if posting.occurred_at is None:
            raise ValueError("a posting needs the moment it happened")
        inserted = await self.conn.fetchval(
            "INSERT INTO postings (posting_id, kind, mode, community_id, event_id, booking_id,"
            " request_id, person_id, external_ref, corrects, occurred_at, memo)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            " ON CONFLICT DO NOTHING RETURNING true",
            posting.posting_id,
            str(posting.kind),
            None if posting.mode is None else str(posting.mode),
            posting.community_id,
            posting.event_id,
            posting.booking_id,
            posting.request_id,
            posting.person_id,
            posting.external_ref,
            posting.corrects,
            posting.occurred_at,
            posting.memo,
        )
        if not inserted:
            return False
        await write_entries(self.conn, posting.posting_id, posting.entries)
        return True

    async def posting_by_ref(self, external_ref: str) -> Posting | None:
        found = await self.conn.fetchval(
            "SELECT posting_id FROM postings WHERE external_ref = $1", external_ref
        )
        return None if found is None else await self.posting(found)

    async def last_entry(self, account: str) -> int:
        value = await self.conn.fetchval(
            "SELECT coalesce(max(entry_id), 0) FROM entries WHERE account = $1", account
        )
        return int(value)

    async def payout_account(self, owner: str) -> str | None:
        value = await self.conn.fetchval(
            "SELECT payout_account FROM provider_accounts WHERE owner = $1", owner
        )
        return None if value is None else str(value)

    async def record_provider_object(self, kind: str, obj: ProviderObject, owner: str) -> None:
        await self.conn.execute(
            "INSERT INTO provider_objects (provider_id, kind, owner, amount, currency, status)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider_id) DO NOTHING",
            obj.provider_id,
            kind,
            owner,
            obj.amount,
            obj.currency,
            obj.status,
        )

    async def provider_object(self, provider_id: str) -> ProviderObject | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM provider_objects WHERE provider_id = $1", provider_id
        )
        if row is None:
            return None
        return ProviderObject(
            row["provider_id"], row["amount"], row["currency"], row["status"], row["owner"]
        )

    async def set_provider_status(self, provider_id: str, status: str) -> None:
        await self.conn.execute(
            "UPDATE provider_objects SET status = $2 WHERE provider_id = $1", provider_id, status
        )

    async def first_webhook(self, event_id: str, kind: str) -> bool:
        return bool(
            await self.conn.fetchval(
                "INSERT INTO webhook_events (event_id, type) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING RETURNING true",
                event_id,
                kind,
            )
        )

    async def posting(self, posting_id: uuid.UUID) -> Posting | None:
        row = await self.conn.fetchrow("SELECT * FROM postings WHERE posting_id = $1", posting_id)
        if row is None:
            return None
        entries = await self.conn.fetch(
            "SELECT account, unit, amount FROM entries WHERE posting_id = $1 ORDER BY entry_id",
            posting_id,
        )
        return Posting(
            Kind(row["kind"]),
            tuple(Entry(e["account"], e["unit"], e["amount"]) for e in entries),
            mode=None if row["mode"] is None else Mode(row["mode"]),
            community_id=row["community_id"],
            event_id=row["event_id"],
            booking_id=row["booking_id"],
            request_id=row["request_id"],
            person_id=row["person_id"],
            external_ref=row["external_ref"],
            corrects=row["corrects"],
            occurred_at=row["occurred_at"],
            memo=row["memo"],
            posting_id=row["posting_id"],
        )

    async def balance(self, account: str) -> int:
        value = await self.conn.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM entries WHERE account = $1", account
        )
        return int(value)

    async def add_expense(self, expense: Expense, receipt: Receipt | None) -> None:
        await self.conn.execute(
            "INSERT INTO expenses (expense_id, kind, booking_id, helper_id, neighbour_id,"
            " community_id, currency, amount, what_for, miles_tenths, receipt, receipt_type,"
            " recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            expense.expense_id,
            str(expense.kind),
            expense.booking_id,
            expense.helper_id,
            expense.neighbour_id,
            expense.community_id,
            expense.currency,
            expense.amount,
            expense.what_for,
            expense.miles_tenths,
            None if receipt is None else receipt.data,
            None if receipt is None else receipt.content_type,
            expense.recorded_at,
        )

    async def expense(self, expense_id: uuid.UUID, *, lock: bool = False) -> Expense | None:
        row = await self.conn.fetchrow(
            f"{_EXPENSE} WHERE expense_id = $1{' FOR UPDATE' if lock else ''}", expense_id
        )
        return None if row is None else expense_from(row)

    async def set_expense_status(self, expense_id: uuid.UUID, status: str, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE expenses SET status = $2, decided_at = $3 WHERE expense_id = $1",
            expense_id,
            status,
            at,
        )


_EXPENSE = (
    "SELECT expense_id, kind, booking_id, helper_id, neighbour_id, community_id, currency,"
    " amount, what_for, miles_tenths, receipt IS NOT NULL AS has_receipt, status, recorded_at"
    " FROM expenses"
)


def expense_from(row: asyncpg.Record) -> Expense:
    """An expense from its row (without the receipt's bytes)."""
    return Expense(
        row["expense_id"],
        Kind(row["kind"]),
        row["booking_id"],
        row["helper_id"],
        row["neighbour_id"],
        row["community_id"],
        row["currency"],
        row["amount"],
        row["what_for"],
        row["miles_tenths"],
        row["has_receipt"],
        row["status"],
        row["recorded_at"],
    )


async def write_entries(
    conn: asyncpg.Connection, posting_id: uuid.UUID, entries: tuple[Entry, ...]
) -> None:
    """Write a posting's entries (opening their accounts first). Nothing here checks that
    they balance: the database does, when the transaction commits."""
    await conn.execute(
        "INSERT INTO accounts (account, unit) SELECT * FROM unnest($1::text[], $2::text[])"
        " ON CONFLICT DO NOTHING",
        [e.account for e in entries],
        [e.unit for e in entries],
    )
    await conn.execute(
        "INSERT INTO entries (posting_id, account, unit, amount)"
        " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[])",
        posting_id,
        [e.account for e in entries],
        [e.unit for e in entries],
        [e.amount for e in entries],
    )


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool) -> AsyncIterator[LedgerUnitOfWork]:
    """One transaction; an unbalanced posting, refused by the database at commit, is raised
    as ``Unbalanced``."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            yield PostgresUnitOfWork(cast(asyncpg.Connection, conn))
    except asyncpg.CheckViolationError as error:
        if error.constraint_name == "posting_balances":
            raise Unbalanced(str(error)) from error
        raise
