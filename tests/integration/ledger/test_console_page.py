"""The console's ledger page over the ledger's real API and database: pots, approvals (a
form that approves), and the reconciliation with its differences."""

from __future__ import annotations

import uuid

import httpx

from services.ledger.bootstrap import LedgerService
from services.ops.entrypoints.http import ledger_pages
from tests.integration.ledger.conftest import Sessions, a_cell, operator


async def test_the_page_shows_pots_and_approvals_and_a_form_approves(
    ledger: LedgerService, console: httpx.AsyncClient, sessions: Sessions
) -> None:
    ledger_api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ledger.app()), base_url="http://ledger"
    )
    cell = a_cell()
    await ledger_api.put(
        "/v1/operator/ledger/communities/canal-side",
        headers=operator(ledger),
        json={"modes": ["gifted"], "cells": [cell]},
    )
    _neighbour, token = sessions.person()
    request_id = uuid.uuid4()
    await ledger_api.post(
        "/v1/me/ledger/pot-requests",
        headers={"Authorization": f"Bearer {token}"},
        json={"request_id": str(request_id), "neighbourhood": cell},
    )
    page = await console.get("/ops/ledger")
    assert page.status_code == 200
    assert "canal-side" in page.text
    assert str(request_id) in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    approved = await console.post(
        f"/ops/ledger/pot-requests/{request_id}", content=b"decision=approve"
    )
    assert approved.status_code == 303
    again = await console.get("/ops/ledger")
    assert str(request_id) not in again.text, "no longer waiting"
    overview = (await console.get("/ops/ledger.json")).json()
    assert overview["reconciliation"]["agrees"] is True, overview["reconciliation"]
    assert "canal-side" in {c["community_id"] for c in overview["communities"]}
    await ledger_api.aclose()


def test_differences_are_listed_and_text_is_escaped() -> None:
    document = ledger_pages.render(
        {
            "communities": [
                {
                    "community_id": "<b>x</b>",
                    "modes": [],
                    "cells": [],
                    "pot": {"hours": 0, "given": 0, "drawn": 0},
                }
            ],
            "approvals": [],
            "reconciliation": {
                "since": "2026-01-01",
                "agrees": False,
                "visits": {
                    "completed": 1,
                    "completed_hours": 2,
                    "posted": 0,
                    "not_posted_by_rule": 0,
                },
                "payouts": {"ledger": 0, "provider": {"checked": False}},
                "trial_balance": {},
                "differences": [{"kind": "visit_not_posted", "booking_id": "b-1"}],
            },
        }
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in document
    assert "1 differences" in document
    assert "visit_not_posted" in document
    assert "booking_id: b-1" in document
