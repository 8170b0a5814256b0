"""Reading the ledger: balances, statements, earnings, pots and weekly totals, all derived
from entries (nothing here is a stored total)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.ledger.domain.postings import (
    HOUR,
    MINUTES_PER_HOUR,
    person_account,
    pot_account,
)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One entry on one of a person's accounts, with the posting it belongs to."""

    entry_id: int
    posting_id: uuid.UUID
    kind: str
    mode: str | None
    account: str
    unit: str
    amount: int
    occurred_at: datetime
    booking_id: uuid.UUID | None
    memo: str
    corrects: uuid.UUID | None


def _hours(minutes: int) -> float:
    return round(minutes / MINUTES_PER_HOUR, 2)


def expense_json(row: asyncpg.Record) -> dict[str, Any]:
    """An expense as JSON (never the receipt's bytes)."""
    return {
        "expense_id": str(row["expense_id"]),
        "kind": row["kind"],
        "booking_id": str(row["booking_id"]),
        "helper_id": str(row["helper_id"]),
        "neighbour_id": str(row["neighbour_id"]),
        "currency": row["currency"],
        "amount": row["amount"],
        "what_for": row["what_for"],
        "miles": None if row["miles_tenths"] is None else row["miles_tenths"] / 10,
        "has_receipt": row["has_receipt"],
        "status": row["status"],
        "recorded_at": row["recorded_at"].isoformat(),
    }


class LedgerQueries:
    """Read-only questions over the ledger's pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def summary(self, owner: str) -> dict[str, Any]:
        """An owner's (``person:<id>``, ``partner:<id>``) balance: hours given and received,
        time credits, money earned, paid, owed and spent on their behalf."""
        time_account, money_account = f"{owner}:time", f"{owner}:money"
        rows = await self._pool.fetch(
            "SELECT e.account, e.unit, p.kind, p.corrects IS NOT NULL AS correction,"
            " coalesce(c.kind, p.kind) AS effective_kind,"
            " sum(e.amount) FILTER (WHERE e.amount > 0) AS plus,"
            " sum(e.amount) FILTER (WHERE e.amount < 0) AS minus"
            " FROM entries e JOIN postings p USING (posting_id)"
            " LEFT JOIN postings c ON c.posting_id = p.corrects"
            " WHERE e.account = ANY($1) GROUP BY 1, 2, 3, 4, 5",
            [time_account, money_account],
        )
        given = received = gifted = credits = 0
        money: dict[str, dict[str, int]] = {}
        for row in rows:
            plus, minus = int(row["plus"] or 0), int(row["minus"] or 0)
            kind = row["effective_kind"]
            if row["account"] == time_account:
                credits += plus + minus
                if kind in ("visit", "late_cancellation"):
                    # A correction of a visit takes back what the visit counted.
                    if row["correction"]:
                        given += minus
                        received -= plus
                    else:
                        given += plus
                        received -= minus
                elif kind == "gift":
                    gifted += -minus - plus
                continue
            figures = money.setdefault(
                row["unit"],
                {"balance": 0, "earned": 0, "charged": 0, "expenses": 0, "paid": 0, "paid_out": 0},
            )
            figures["balance"] += plus + minus
            if kind in ("visit", "late_cancellation"):
                figures["earned"] += plus
                figures["charged"] += -minus
            elif kind in ("expense", "mileage"):
                figures["expenses"] += plus
                figures["charged"] += -minus
            elif kind == "payment":
                figures["paid"] += plus
            elif kind == "payout":
                figures["paid_out"] += -minus
        return {
            "owner": owner,
            "hours": {
                "given": _hours(given),
                "received": _hours(received),
                "gifted_to_pots": _hours(gifted),
                "credits": _hours(credits),
            },
            "money": [{"currency": unit, **figures} for unit, figures in sorted(money.items())],
        }

    async def statement(
        self, owner: str, *, limit: int, before: int | None = None
    ) -> list[StatementLine]:
        """The entries on an owner's accounts, newest first; ``before`` an entry id to page."""
        rows = await self._pool.fetch(
            "SELECT e.entry_id, e.posting_id, p.kind, p.mode, e.account, e.unit, e.amount,"
            " p.occurred_at, p.booking_id, p.memo, p.corrects"
            " FROM entries e JOIN postings p USING (posting_id)"
            " WHERE e.account = ANY($1) AND ($2::bigint IS NULL OR e.entry_id < $2)"
            " ORDER BY e.entry_id DESC LIMIT $3",
            [f"{owner}:time", f"{owner}:money"],
            before,
            limit,
        )
        return [StatementLine(**dict(row)) for row in rows]

    async def earnings_by_month(self, person_id: uuid.UUID) -> list[dict[str, Any]]:
        """Per calendar month (UTC): hours given, and money earned per currency, by a helper."""
        rows = await self._pool.fetch(
            "SELECT to_char(date_trunc('month', p.occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM')"
            " AS month, e.unit, sum(e.amount) AS amount"
            " FROM entries e JOIN postings p USING (posting_id)"
            " LEFT JOIN postings c ON c.posting_id = p.corrects"
            " WHERE e.account = ANY($1)"
            " AND coalesce(c.kind, p.kind) IN ('visit', 'late_cancellation')"
            " AND (e.amount > 0 OR p.kind = 'correction')"
            " GROUP BY 1, 2 ORDER BY 1",
            [person_account(person_id, "time"), person_account(person_id, "money")],
        )
        months: dict[str, dict[str, Any]] = {}
        for row in rows:
            month = months.setdefault(
                row["month"], {"month": row["month"], "hours_given": 0.0, "earned": {}}
            )
            if row["unit"] == HOUR:
                month["hours_given"] = _hours(int(row["amount"]))
            else:
                month["earned"][row["unit"]] = int(row["amount"])
        return list(months.values())

    async def expenses_of(self, person_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
        """Expenses a person recorded as a helper or is asked to confirm, newest first."""
        rows = await self._pool.fetch(
            "SELECT expense_id, kind, booking_id, helper_id, neighbour_id, currency, amount,"
            " what_for, miles_tenths, receipt IS NOT NULL AS has_receipt, status, recorded_at"
            " FROM expenses WHERE helper_id = $1 OR neighbour_id = $1"
            " ORDER BY recorded_at DESC LIMIT $2",
            person_id,
            limit,
        )
        return [expense_json(row) for row in rows]

    async def receipt(
        self, expense_id: uuid.UUID, person_id: uuid.UUID
    ) -> tuple[str, bytes] | None:
        """An expense's receipt photo, for the visit's helper or neighbour only."""
        row = await self._pool.fetchrow(
            "SELECT receipt_type, receipt FROM expenses WHERE expense_id = $1"
            " AND (helper_id = $2 OR neighbour_id = $2) AND receipt IS NOT NULL",
            expense_id,
            person_id,
        )
        return None if row is None else (row["receipt_type"], bytes(row["receipt"]))

    async def pot(self, community_id: str) -> dict[str, Any]:
        """A community's pot: hours in it, given into it and drawn from it."""
        account = pot_account(community_id)
        row = await self._pool.fetchrow(
            "SELECT coalesce(sum(amount), 0) AS balance,"
            " coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS given,"
            " coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS drawn"
            " FROM entries WHERE account = $1",
            account,
        )
        assert row is not None
        return {
            "community_id": community_id,
            "hours": _hours(int(row["balance"])),
            "given": _hours(int(row["given"])),
            "drawn": _hours(int(row["drawn"])),
        }

    async def trial_balance(self, *, until: datetime | None = None) -> dict[str, int]:
        """The sum of every entry per unit (up to ``until``): zero in every unit when the
        ledger balances."""
        rows = await self._pool.fetch(
            "SELECT e.unit, sum(e.amount) AS total FROM entries e JOIN postings p"
            " USING (posting_id) WHERE $1::timestamptz IS NULL OR p.occurred_at < $1"
            " GROUP BY 1 ORDER BY 1",
            until,
        )
        return {row["unit"]: int(row["total"]) for row in rows}

    async def totals(self, since: datetime, until: datetime) -> dict[str, Any]:
        """What happened between ``since`` and ``until``: hours given and received (time
        credits), gifted into pots and drawn from them, paid for (and the money), and whether
        the ledger balanced at ``until``."""
        rows = await self._pool.fetch(
            "SELECT p.kind, p.mode, e.unit,"
            " coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0) AS moved,"
            " count(DISTINCT p.posting_id) AS postings"
            " FROM postings p JOIN entries e USING (posting_id)"
            " WHERE p.occurred_at >= $1 AND p.occurred_at < $2 GROUP BY 1, 2, 3",
            since,
            until,
        )
        out: dict[str, Any] = {
            "hours_given": 0.0,
            "hours_received": 0.0,
            "hours_gifted": 0.0,
            "hours_from_pots": 0.0,
            "hours_paid": 0.0,
            "money_paid": {},
            "visits_posted": 0,
        }
        paid_hours = await self._pool.fetchval(
            "SELECT coalesce(sum(v.hours), 0) FROM postings p JOIN visits v USING (booking_id)"
            " WHERE p.kind = 'visit' AND p.mode = 'paid'"
            " AND p.occurred_at >= $1 AND p.occurred_at < $2",
            since,
            until,
        )
        out["hours_paid"] = float(paid_hours)
        for row in rows:
            moved = int(row["moved"])
            if row["kind"] == "visit":
                out["visits_posted"] += int(row["postings"])
            if row["unit"] == HOUR and row["kind"] in ("visit", "late_cancellation"):
                out["hours_given"] += _hours(moved)
                if row["mode"] == "time_credits":
                    out["hours_received"] += _hours(moved)
                else:
                    out["hours_from_pots"] += _hours(moved)
            elif row["unit"] == HOUR and row["kind"] == "gift":
                out["hours_gifted"] += _hours(moved)
            elif row["unit"] != HOUR and row["kind"] in ("visit", "late_cancellation"):
                out["money_paid"][row["unit"]] = out["money_paid"].get(row["unit"], 0) + moved
        balance = await self.trial_balance(until=until)
        out["trial_balance"] = balance
        out["balanced"] = all(total == 0 for total in balance.values())
        return out
