"""Expenses, mileage, card payments, payouts, webhooks and reconciliation, on the real
database and broker; the payment provider is a double at its HTTP edge only."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.ledger.bootstrap import LedgerService
from shared import clock
from shared.contracts.skills import Skill
from shared.messaging import Publisher
from tests.conftest import Stack
from tests.integration.ledger.conftest import Sessions, a_cell, completed, fresh_database
from tests.integration.ledger.fake_stripe import FakeStripe
from tests.support import eventually

WEBHOOK_SECRET = "whsec_test_" + "x" * 24


@pytest.fixture(scope="module")
def stripe() -> FakeStripe:
    return FakeStripe(WEBHOOK_SECRET)


@pytest.fixture(scope="module")
async def money_ledger(
    stack: Stack, sessions: Sessions, stripe: FakeStripe
) -> AsyncIterator[LedgerService]:
    service = LedgerService(
        stack.settings(
            ledger_provider_secret_key="sk_test_" + "k" * 24,
            ledger_provider_webhook_secret=WEBHOOK_SECRET,
        ),
        database_url=fresh_database(stack.database_url),
        group_id=f"test-ledger-money-{uuid.uuid4()}",
        booking_transport=httpx.MockTransport(sessions.handler),
        provider_transport=httpx.MockTransport(stripe.handler),
    )
    await service.start()
    try:
        await asyncio.wait_for(service.ready(), timeout=30)
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def api(money_ledger: LedgerService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=money_ledger.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _community(api: httpx.AsyncClient, ledger: LedgerService, name: str) -> str:
    cell = a_cell()
    response = await api.put(
        f"/v1/operator/ledger/communities/{name}",
        headers=bearer(ledger.operator_token),
        json={
            "modes": ["paid"],
            "cells": [cell],
            "rates": {"shopping": 1200, "lift": 1000},
            "mileage_rate": 45,
        },
    )
    assert response.status_code == 200, response.text
    return cell


async def _visits(ledger: LedgerService, publisher: Publisher, *events: Any) -> None:
    await publisher.publish_many(list(events))

    async def posted() -> bool:
        return all(
            [
                await ledger.pool.fetchval(
                    "SELECT true FROM postings WHERE booking_id = $1", e.data.booking_id
                )
                for e in events
            ]
        )

    await eventually(posted, what="the visits posted")


async def _money(api: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = (await api.get("/v1/me/ledger", headers=bearer(token))).json()
    money: dict[str, Any] = body["money"][0] if body["money"] else {"balance": 0}
    return money


async def test_an_expense_and_a_lifts_mileage_are_posted_once_the_neighbour_confirms(
    money_ledger: LedgerService, api: httpx.AsyncClient, publisher: Publisher, sessions: Sessions
) -> None:
    cell = await _community(api, money_ledger, "market-town")
    (helper, helper_token), (neighbour, neighbour_token) = sessions.person(), sessions.person()
    _, stranger_token = sessions.person()
    shopping = completed(helper, neighbour, cell=cell, skill=Skill.SHOPPING, hours=1)
    lift = completed(helper, neighbour, cell=cell, skill=Skill.LIFT, hours=1)
    await _visits(money_ledger, publisher, shopping, lift)

    photo = b"\x89PNG\r\n\x1a\n" + b"receipt" * 50
    recorded = await api.post(
        "/v1/me/ledger/expenses",
        headers=bearer(helper_token),
        json={
            "booking_id": str(shopping.data.booking_id),
            "amount": 2350,
            "what_for": "the weekly shop",
            "receipt": {
                "content_type": "image/png",
                "data_base64": base64.b64encode(photo).decode(),
            },
        },
    )
    assert recorded.status_code == 201, recorded.text
    expense_id = recorded.json()["expense_id"]
    not_theirs = await api.post(
        "/v1/me/ledger/expenses",
        headers=bearer(stranger_token),
        json={"booking_id": str(shopping.data.booking_id), "amount": 1, "what_for": "x"},
    )
    assert not_theirs.status_code == 404
    assert (await _money(api, helper_token))["balance"] == 1200 + 1000  # the expense: not yet
    # The receipt: the two people of the visit only.
    receipt = await api.get(
        f"/v1/me/ledger/expenses/{expense_id}/receipt", headers=bearer(neighbour_token)
    )
    assert receipt.content == photo
    assert receipt.headers["content-type"] == "image/png"
    hidden = await api.get(
        f"/v1/me/ledger/expenses/{expense_id}/receipt", headers=bearer(stranger_token)
    )
    assert hidden.status_code == 404
    by_helper = await api.post(
        f"/v1/me/ledger/expenses/{expense_id}",
        headers=bearer(helper_token),
        json={"decision": "confirm"},
    )
    assert by_helper.status_code == 404, "only the neighbour confirms"
    confirmed = await api.post(
        f"/v1/me/ledger/expenses/{expense_id}",
        headers=bearer(neighbour_token),
        json={"decision": "confirm"},
    )
    assert confirmed.status_code == 200, confirmed.text
    twice = await api.post(
        f"/v1/me/ledger/expenses/{expense_id}",
        headers=bearer(neighbour_token),
        json={"decision": "confirm"},
    )
    assert twice.status_code == 409

    not_a_lift = await api.post(
        "/v1/me/ledger/mileage",
        headers=bearer(helper_token),
        json={"booking_id": str(shopping.data.booking_id), "miles": 3.5},
    )
    assert not_a_lift.status_code == 409
    miles = await api.post(
        "/v1/me/ledger/mileage",
        headers=bearer(helper_token),
        json={"booking_id": str(lift.data.booking_id), "miles": 3.5},
    )
    assert miles.json()["amount"] == 158  # 3.5 miles at 45p, rounded half up
    disputed = await api.post(
        f"/v1/me/ledger/expenses/{miles.json()['expense_id']}",
        headers=bearer(neighbour_token),
        json={"decision": "dispute"},
    )
    assert disputed.json()["status"] == "disputed"

    helper_money = await _money(api, helper_token)
    assert helper_money["expenses"] == 2350
    assert helper_money["balance"] == 1200 + 1000 + 2350
    assert (await _money(api, neighbour_token))["balance"] == -(1200 + 1000 + 2350)
    listed = await api.get("/v1/me/ledger/expenses", headers=bearer(neighbour_token))
    assert {item["status"] for item in listed.json()["items"]} == {"confirmed", "disputed"}
    assert all(
        "receipt" not in key
        for item in listed.json()["items"]
        for key in item
        if key != "has_receipt"
    )


async def test_a_card_payment_is_posted_once_from_its_verified_webhook_and_a_payout_reconciles(
    money_ledger: LedgerService,
    api: httpx.AsyncClient,
    publisher: Publisher,
    sessions: Sessions,
    stripe: FakeStripe,
) -> None:
    cell = await _community(api, money_ledger, "harbour")
    (helper, helper_token), (neighbour, neighbour_token) = sessions.person(), sessions.person()
    await _visits(money_ledger, publisher, completed(helper, neighbour, cell=cell, hours=2))
    assert (await _money(api, neighbour_token))["balance"] == -2400

    declined = await api.post(
        "/v1/me/ledger/payments",
        headers=bearer(neighbour_token),
        json={"payment_method": "pm_card_declined"},
    )
    assert declined.status_code == 502
    assert "declined" in declined.json()["detail"]
    paid = await api.post(
        "/v1/me/ledger/payments",
        headers=bearer(neighbour_token),
        json={"payment_method": "pm_card_visa"},
    )
    assert paid.status_code == 202, paid.text
    again = await api.post(
        "/v1/me/ledger/payments",
        headers=bearer(neighbour_token),
        json={"payment_method": "pm_card_visa"},
    )
    assert again.json()["payment"] == paid.json()["payment"], "one debt, one charge"
    assert len(stripe.payment_intents) == 1
    assert (await _money(api, neighbour_token))["balance"] == -2400, "posted on the webhook"

    intent = {**stripe.payment_intents[paid.json()["payment"]], "amount_received": 2400}
    now = int(clock.now().timestamp())
    body, signature = stripe.event("payment_intent.succeeded", intent, timestamp=now)
    forged = await api.post(
        "/v1/ledger/webhooks/provider",
        content=body.replace(b"2400", b"9999"),
        headers={"Stripe-Signature": signature},
    )
    assert forged.status_code == 400
    stale_body, stale = stripe.event("payment_intent.succeeded", intent, timestamp=now - 3600)
    old = await api.post(
        "/v1/ledger/webhooks/provider", content=stale_body, headers={"Stripe-Signature": stale}
    )
    assert old.status_code == 400
    outcomes = []
    for _ in range(2):  # the provider delivers at least once
        answer = await api.post(
            "/v1/ledger/webhooks/provider", content=body, headers={"Stripe-Signature": signature}
        )
        outcomes.append(answer.json()["outcome"])
    other_body, other = stripe.event("payment_intent.succeeded", intent, timestamp=now)
    resent = await api.post(
        "/v1/ledger/webhooks/provider", content=other_body, headers={"Stripe-Signature": other}
    )
    outcomes.append(resent.json()["outcome"])
    assert outcomes == ["payment posted", "already processed", "payment was posted already"]
    neighbour_money = await _money(api, neighbour_token)
    assert neighbour_money["balance"] == 0
    assert neighbour_money["paid"] == 2400

    ops = bearer(money_ledger.operator_token)
    no_account = await api.post(f"/v1/operator/ledger/payouts/{helper}", headers=ops, json={})
    assert no_account.status_code == 409
    await api.put(
        "/v1/me/ledger/payout-account",
        headers=bearer(helper_token),
        json={"account": "acct_1Helper"},
    )
    payout = await api.post(f"/v1/operator/ledger/payouts/{helper}", headers=ops, json={})
    assert payout.status_code == 200, payout.text
    assert payout.json()["amount"] == 2400
    nothing_left = await api.post(f"/v1/operator/ledger/payouts/{helper}", headers=ops, json={})
    assert nothing_left.status_code == 409
    helper_money = await _money(api, helper_token)
    assert helper_money["balance"] == 0
    assert helper_money["paid_out"] == 2400

    agreed = (await api.get("/v1/operator/ledger/reconciliation", headers=ops)).json()
    assert agreed["differences"] == [], agreed
    assert agreed["payouts"]["provider"] == {"checked": True, "payouts": 1}
    # A transfer made at the provider by hand, which the ledger never posted.
    stripe.transfers["tr_byhand"] = {
        "id": "tr_byhand",
        "amount": 500,
        "amount_reversed": 0,
        "currency": "gbp",
        "reversed": False,
        "metadata": {},
    }
    found = (await api.get("/v1/operator/ledger/reconciliation", headers=ops)).json()
    assert found["differences"] == [
        {"kind": "payout_not_posted", "provider_id": "tr_byhand", "amount": 500, "currency": "GBP"}
    ]
