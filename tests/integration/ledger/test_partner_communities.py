"""A community that is a partner's: a visit that came through the partner's referral is
posted under the partner's community rules, set in the console; others by their cell."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.ledger.bootstrap import LedgerService
from shared.contracts import Envelope
from shared.contracts.bookings import BookingConfirmed, VisitCompleted
from shared.messaging import Publisher
from tests.integration.ledger.conftest import Sessions, a_cell, completed, operator
from tests.support import eventually


def _confirmed(done: Envelope[VisitCompleted], referred_by: uuid.UUID | None) -> Envelope[Any]:
    visit = done.data.model_dump(exclude={"TYPE", "VERSION"})
    return Envelope.wrap(
        BookingConfirmed(**visit, offer_id=uuid.uuid4(), referred_by=referred_by),
        producer="test",
    )


async def _posted(ledger: LedgerService, booking_id: uuid.UUID) -> list[tuple[str, str]]:
    rows = await ledger.pool.fetch(
        "SELECT mode, community_id FROM postings WHERE booking_id = $1 AND kind = 'visit'",
        booking_id,
    )
    return [(row["mode"], row["community_id"]) for row in rows]


async def test_a_referred_visit_follows_its_partners_community_and_others_their_cells(
    ledger: LedgerService,
    api: httpx.AsyncClient,
    console: httpx.AsyncClient,
    publisher: Publisher,
    sessions: Sessions,
) -> None:
    ops = operator(ledger)
    cell = a_cell()
    placed = await api.put(
        "/v1/operator/ledger/communities/millbrook",
        headers=ops,
        json={"modes": ["time_credits"], "cells": [cell]},
    )
    assert placed.status_code == 200, placed.text
    council = await api.put(
        "/v1/operator/ledger/communities/council-care",
        headers=ops,
        json={"modes": ["paid"], "rates": {"shopping": 1800}},
    )
    assert council.status_code == 200, council.text
    partner, other_partner = uuid.uuid4(), uuid.uuid4()
    # The operator makes council-care the partner's community through the console's form.
    saved = await console.post(
        "/ops/ledger/partners",
        content=f"partner_id={partner}&community_id=council-care".encode(),
    )
    assert saved.status_code == 303, saved.text
    unknown = await api.put(
        f"/v1/operator/ledger/partners/{other_partner}", headers=ops, json={"community_id": "nope"}
    )
    assert unknown.status_code == 422
    assert "community_id" in unknown.json()["detail"]

    helper, helper_token = sessions.person()
    # What a person's app reads for their own neighbourhood: its community, not a partner's.
    mine = await api.get(
        f"/v1/neighbourhoods/{cell}/community", headers={"Authorization": f"Bearer {helper_token}"}
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["community_id"] == "millbrook"
    assert mine.json()["modes"] == ["time_credits"]
    assert mine.json()["pot"]["hours"] == 0.0
    nowhere = await api.get(
        "/v1/neighbourhoods/87195da49ffffff/community",
        headers={"Authorization": f"Bearer {helper_token}"},
    )
    assert nowhere.json()["community_id"] == "default"
    referred = completed(helper, uuid.uuid4(), cell=cell, hours=2)
    member = completed(helper, uuid.uuid4(), cell=cell, hours=1)
    # Referred by a partner that has no community: the visit's neighbourhood decides.
    elsewhere = completed(helper, uuid.uuid4(), cell=cell, hours=1)
    await publisher.publish_many(
        [
            _confirmed(referred, partner),
            _confirmed(member, None),
            _confirmed(elsewhere, other_partner),
            referred,
            member,
            elsewhere,
        ]
    )

    async def all_posted() -> bool:
        return all(
            [await _posted(ledger, e.data.booking_id) for e in (referred, member, elsewhere)]
        )

    await eventually(all_posted, what="the three visits posted")
    assert await _posted(ledger, referred.data.booking_id) == [("paid", "council-care")]
    assert await _posted(ledger, member.data.booking_id) == [("time_credits", "millbrook")]
    assert await _posted(ledger, elsewhere.data.booking_id) == [("time_credits", "millbrook")]
    helper_balance = await api.get(f"/v1/operator/ledger/owners/person:{helper}", headers=ops)
    assert helper_balance.json()["money"][0]["earned"] == 3600, helper_balance.json()

    communities = (await api.get("/v1/operator/ledger/communities", headers=ops)).json()
    by_id = {c["community_id"]: c for c in communities["items"]}
    assert by_id["council-care"]["partners"] == [str(partner)]
    page = await console.get("/ops/ledger")
    assert str(partner) in page.text
    # Back to the neighbourhood's rules: the partner is in no community.
    cleared = await console.post(
        "/ops/ledger/partners", content=f"partner_id={partner}&community_id=".encode()
    )
    assert cleared.status_code == 303
    after = (await api.get("/v1/operator/ledger/communities", headers=ops)).json()
    assert all(str(partner) not in c["partners"] for c in after["items"])
    bad = await console.post("/ops/ledger/partners", content=b"partner_id=x&community_id=")
    assert bad.status_code == 422
