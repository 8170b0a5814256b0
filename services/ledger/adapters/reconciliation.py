"""Reconciliation: the ledger's totals against what it should agree with, every difference
listed.

- every completed visit booking announced has its visit posting (or a recorded reason why
  its community posts nothing), and every visit posting a completed visit;
- the hours of each visit posted in hours are the visit's hours;
- every payout posted is a payout at the provider with the same amount, and the other way;
- every unit's entries sum to zero.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.ledger.service_layer.ports import PaymentProvider, ProviderError


async def reconcile(
    pool: asyncpg.Pool, provider: PaymentProvider | None, *, since: datetime
) -> dict[str, Any]:
    """Compare the ledger with completed visits and with the provider's payouts since
    ``since``; ``differences`` is empty when everything agrees."""
    differences: list[dict[str, Any]] = []
    visits = await pool.fetch(
        "SELECT v.booking_id, v.hours, v.status, v.unposted, p.posting_id, p.mode,"
        " (SELECT sum(e.amount) FROM entries e WHERE e.posting_id = p.posting_id"
        "  AND e.unit = 'hour' AND e.amount > 0) AS minutes"
        " FROM visits v FULL JOIN (SELECT * FROM postings WHERE kind = 'visit') p"
        " USING (booking_id)"
        " WHERE (v.status = 'completed' AND v.starts_at >= $1) OR p.occurred_at >= $1",
        since,
    )
    completed = posted = hours = 0
    for row in visits:
        if row["status"] == "completed":
            completed += 1
            hours += row["hours"]
        if row["posting_id"] is not None:
            posted += 1
        booking = str(row["booking_id"])
        if row["status"] == "completed" and row["posting_id"] is None and not row["unposted"]:
            differences.append({"kind": "visit_not_posted", "booking_id": booking})
        elif row["posting_id"] is not None and row["status"] != "completed":
            differences.append(
                {"kind": "posted_not_completed", "booking_id": booking, "status": row["status"]}
            )
        elif row["minutes"] is not None and row["minutes"] != row["hours"] * 60:
            differences.append(
                {
                    "kind": "hours_differ",
                    "booking_id": booking,
                    "visit_hours": row["hours"],
                    "posted_hours": row["minutes"] / 60,
                }
            )
    unposted = sum(1 for row in visits if row["unposted"])
    payouts = await pool.fetch(
        "SELECT p.external_ref, e.unit, -e.amount AS amount FROM postings p"
        " JOIN entries e ON e.posting_id = p.posting_id AND e.amount < 0"
        " WHERE p.kind = 'payout' AND p.occurred_at >= $1"
        " AND NOT EXISTS (SELECT 1 FROM postings c WHERE c.corrects = p.posting_id)",
        since,
    )
    ledger_payouts = {row["external_ref"]: (int(row["amount"]), row["unit"]) for row in payouts}
    provider_summary: dict[str, Any] = {"checked": False}
    if provider is not None:
        try:
            at_provider = await provider.payouts_since(since)
        except ProviderError as error:
            provider_summary = {"checked": False, "error": str(error)}
        else:
            provider_summary = {"checked": True, "payouts": len(at_provider)}
            seen = set()
            for obj in at_provider:
                seen.add(obj.provider_id)
                ours = ledger_payouts.get(obj.provider_id)
                if obj.status == "reversed" or obj.amount == 0:
                    if ours is not None:
                        differences.append(
                            {"kind": "payout_reversed_not_posted", "provider_id": obj.provider_id}
                        )
                    continue
                if ours is None:
                    differences.append(
                        {
                            "kind": "payout_not_posted",
                            "provider_id": obj.provider_id,
                            "amount": obj.amount,
                            "currency": obj.currency,
                        }
                    )
                elif ours != (obj.amount, obj.currency):
                    differences.append(
                        {
                            "kind": "payout_amount_differs",
                            "provider_id": obj.provider_id,
                            "ledger": ours[0],
                            "provider": obj.amount,
                        }
                    )
            for ref, (amount, unit) in ledger_payouts.items():
                if ref not in seen:
                    differences.append(
                        {
                            "kind": "payout_not_at_provider",
                            "provider_id": ref,
                            "amount": amount,
                            "currency": unit,
                        }
                    )
    totals = await pool.fetch("SELECT unit, sum(amount) AS total FROM entries GROUP BY 1")
    for row in totals:
        if row["total"] != 0:
            differences.append(
                {"kind": "unit_unbalanced", "unit": row["unit"], "sum": row["total"]}
            )
    return {
        "since": since.isoformat(),
        "visits": {
            "completed": completed,
            "completed_hours": hours,
            "posted": posted,
            "not_posted_by_rule": unposted,
        },
        "payouts": {"ledger": len(ledger_payouts), "provider": provider_summary},
        "trial_balance": {row["unit"]: int(row["total"]) for row in totals},
        "differences": differences,
        "agrees": not differences,
    }
