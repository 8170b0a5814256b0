"""Completed visits posted once each, in their community's mode, through the real broker
and database; balances read through the ledger's API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from services.ledger.bootstrap import LedgerService
from shared.contracts import Envelope
from shared.contracts.bookings import BookingConfirmed, BookingKept, Side
from shared.contracts.skills import Skill
from shared.messaging import Publisher
from tests.integration.ledger.conftest import (
    Sessions,
    a_cell,
    cancelled_late,
    completed,
    operator,
)
from tests.support import eventually


async def _postings(ledger: LedgerService, booking_id: uuid.UUID) -> list[Any]:
    return list(
        await ledger.pool.fetch(
            "SELECT kind, mode FROM postings WHERE booking_id = $1 ORDER BY created_at",
            booking_id,
        )
    )


async def _me(api: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await api.get("/v1/me/ledger", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_completed_visit_posts_once_however_often_it_is_delivered(
    ledger: LedgerService, api: httpx.AsyncClient, publisher: Publisher, sessions: Sessions
) -> None:
    (helper, helper_token), (neighbour, neighbour_token) = sessions.person(), sessions.person()
    event = completed(helper, neighbour, cell=a_cell(), hours=2)
    # The same event twice (a redelivery), and the same visit under another event id (a
    # replay that re-wrapped it): one posting.
    again = completed(
        helper,
        neighbour,
        cell=event.data.neighbourhood,
        hours=2,
        booking_id=event.data.booking_id,
        request_id=event.data.request_id,
    )
    fence = completed(helper, neighbour, cell=event.data.neighbourhood, hours=1)
    await publisher.publish_many([event, event, again, fence])

    async def fenced() -> bool:
        return bool(await _postings(ledger, fence.data.booking_id))

    await eventually(fenced, what="the fence visit posted")
    assert [tuple(row) for row in await _postings(ledger, event.data.booking_id)] == [
        ("visit", "time_credits")
    ]
    helper_side, neighbour_side = await _me(api, helper_token), await _me(api, neighbour_token)
    assert helper_side["hours"] == {
        "given": 3.0,
        "received": 0.0,
        "gifted_to_pots": 0.0,
        "credits": 3.0,
    }
    assert neighbour_side["hours"]["received"] == 3.0
    assert neighbour_side["hours"]["credits"] == -3.0
    statement = await api.get(
        "/v1/me/ledger/statement", headers={"Authorization": f"Bearer {helper_token}"}
    )
    assert [item["amount"] for item in statement.json()["items"]] == [60, 120]
    trial = await api.get("/v1/operator/ledger/trial-balance", headers=operator(ledger))
    assert trial.json()["balanced"] is True


async def test_each_community_posts_in_its_own_modes(
    ledger: LedgerService, api: httpx.AsyncClient, publisher: Publisher, sessions: Sessions
) -> None:
    paid_cell, gifted_cell = a_cell(), a_cell()
    ops = operator(ledger)
    paid = await api.put(
        "/v1/operator/ledger/communities/riverside",
        headers=ops,
        json={
            "modes": ["paid", "time_credits"],
            "cells": [paid_cell],
            "rates": {"shopping": 1500},
            "late_cancel_percent": 50,
        },
    )
    assert paid.status_code == 200, paid.text
    gifted = await api.put(
        "/v1/operator/ledger/communities/hillside",
        headers=ops,
        json={"modes": ["gifted", "time_credits"], "cells": [gifted_cell]},
    )
    assert gifted.status_code == 200, gifted.text
    (helper, helper_token), (neighbour, neighbour_token) = sessions.person(), sessions.person()
    _giver, giver_token = sessions.person()
    gift = await api.post(
        "/v1/me/ledger/gifts",
        headers={"Authorization": f"Bearer {giver_token}"},
        json={"community_id": "hillside", "hours": 3},
    )
    assert gift.status_code == 201, gift.text
    assert gift.json()["pot"]["hours"] == 3.0
    refused = await api.post(
        "/v1/me/ledger/gifts",
        headers={"Authorization": f"Bearer {giver_token}"},
        json={"community_id": "riverside", "hours": 1},
    )
    assert refused.status_code == 409

    covered = completed(helper, neighbour, cell=gifted_cell, hours=2)
    asked = await api.post(
        "/v1/me/ledger/pot-requests",
        headers={"Authorization": f"Bearer {neighbour_token}"},
        json={"request_id": str(covered.data.request_id), "neighbourhood": gifted_cell},
    )
    assert asked.json()["community_id"] == "hillside"
    pending = await api.get("/v1/operator/ledger/pot-requests", headers=ops)
    assert str(covered.data.request_id) in {i["request_id"] for i in pending.json()["items"]}
    decided = await api.post(
        f"/v1/operator/ledger/pot-requests/{covered.data.request_id}",
        headers=ops,
        json={"decision": "approve", "operator": "sam"},
    )
    assert decided.status_code == 200, decided.text

    # Someone else asking (and being approved) for this neighbour's request covers nothing.
    _, stranger_token = sessions.person()
    not_theirs = completed(helper, neighbour, cell=gifted_cell, hours=1)
    await api.post(
        "/v1/me/ledger/pot-requests",
        headers={"Authorization": f"Bearer {stranger_token}"},
        json={"request_id": str(not_theirs.data.request_id), "neighbourhood": gifted_cell},
    )
    await api.post(
        f"/v1/operator/ledger/pot-requests/{not_theirs.data.request_id}",
        headers=ops,
        json={"decision": "approve", "operator": "sam"},
    )
    paid_visit = completed(helper, neighbour, cell=paid_cell, skill=Skill.SHOPPING, hours=2)
    credits_visit = completed(helper, neighbour, cell=paid_cell, skill=Skill.GARDENING, hours=1)
    not_covered = completed(helper, neighbour, cell=gifted_cell, hours=1)
    late_by_neighbour = cancelled_late(helper, neighbour, cell=paid_cell, by=Side.NEIGHBOUR)
    late_by_helper = cancelled_late(helper, neighbour, cell=paid_cell, by=Side.HELPER)
    # Each cell is one partition, read in order: a fence after the last event in each cell.
    fences = [
        completed(helper, neighbour, cell=cell, skill=Skill.GARDENING, hours=1)
        for cell in (paid_cell, gifted_cell)
    ]
    visits: dict[str, Envelope[Any]] = {
        "covered": covered,
        "paid": paid_visit,
        "credits": credits_visit,
        "not_covered": not_covered,
        "not_theirs": not_theirs,
        "late_neighbour": late_by_neighbour,
        "late_helper": late_by_helper,
    }
    await publisher.publish_many(list(visits.values()))
    await publisher.publish_many(fences)

    async def fenced() -> bool:
        return all([await _postings(ledger, fence.data.booking_id) for fence in fences])

    await eventually(fenced, what="the fence visits posted")
    modes = {
        name: [tuple(row) for row in await _postings(ledger, event.data.booking_id)]
        for name, event in visits.items()
    }
    assert modes == {
        "covered": [("visit", "gifted")],
        "paid": [("visit", "paid")],
        "credits": [("visit", "time_credits")],
        "not_covered": [("visit", "time_credits")],
        "not_theirs": [("visit", "time_credits")],
        "late_neighbour": [("late_cancellation", "paid")],
        "late_helper": [],
    }
    helper_side = await _me(api, helper_token)
    # 2 h from the pot, 1 h gardening, 1 h not covered, 1 h not theirs, 1 h each fence.
    assert helper_side["hours"]["given"] == 7.0
    assert helper_side["money"] == [
        {
            "currency": "GBP",
            "balance": 3000 + 1500,
            "earned": 4500,
            "charged": 0,
            "expenses": 0,
            "paid": 0,
            "paid_out": 0,
        }
    ]
    neighbour_side = await _me(api, neighbour_token)
    assert neighbour_side["money"][0]["balance"] == -4500
    assert neighbour_side["hours"]["received"] == 5.0  # the pot paid for the other 2
    pot = await api.get(
        "/v1/communities/hillside/pot", headers={"Authorization": f"Bearer {giver_token}"}
    )
    assert pot.json() == {"community_id": "hillside", "hours": 1.0, "given": 3.0, "drawn": 2.0}
    earnings = await api.get(
        "/v1/me/ledger/earnings", headers={"Authorization": f"Bearer {helper_token}"}
    )
    (month,) = earnings.json()["months"]
    assert month["earned"] == {"GBP": 4500}
    assert month["hours_given"] == 7.0


async def test_a_token_booking_does_not_accept_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/me/ledger", headers={"Authorization": "Bearer nobody"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    bad = await api.put(
        "/v1/operator/ledger/communities/x", headers={"Authorization": "Bearer nope"}, json={}
    )
    assert bad.status_code == 403


async def test_a_held_visit_kept_after_all_is_booked_again(
    ledger: LedgerService, publisher: Publisher, sessions: Sessions
) -> None:
    (helper, _), (neighbour, _) = sessions.person(), sessions.person()
    held = cancelled_late(helper, neighbour, cell=a_cell(), by=Side.HELPER)
    visit = held.data.model_dump(exclude={"cancelled_by", "late"})
    confirmed = Envelope.wrap(BookingConfirmed(**visit, offer_id=uuid.uuid4()), producer="test")
    # A suspension held it (not late: nobody chose it), then an operator kept it.
    called_off = Envelope.wrap(held.data.model_copy(update={"late": False}), producer="test")
    kept = Envelope.wrap(BookingKept(**confirmed.data.model_dump()), producer="test")

    def status_is(wanted: str) -> Callable[[], Awaitable[bool]]:
        async def probe() -> bool:
            found = await ledger.pool.fetchval(
                "SELECT status FROM visits WHERE booking_id = $1", held.data.booking_id
            )
            return bool(found == wanted)

        return probe

    await publisher.publish_many([confirmed, called_off])
    await eventually(status_is("cancelled"), what="the held visit cancelled")
    await publisher.publish(kept)
    await eventually(status_is("booked"), what="the kept visit booked again")
    assert await _postings(ledger, held.data.booking_id) == []  # no late cancellation
