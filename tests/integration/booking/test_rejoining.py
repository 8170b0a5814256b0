"""Deleting an account is no way round a suspension.

Through booking's real API and database: when someone suspended (or removed) is erased, booking
keeps keyed hashes of their email and phone, nothing readable; a later sign-up that matches
one is answered as any sign-up, but the account is held for an operator's review: it cannot
ask for help or take work until an operator clears it. Someone in good standing who leaves
may come back freely.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared.contracts import Envelope
from shared.contracts.trust import StandingChanged
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import future_hour, sign_up
from tests.support import eventually

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
PASSWORD = "a long enough password"
REVIEW = "matches a removed person's account"


def _contact(run: str) -> tuple[str, str]:
    """An email and a phone only this test uses (other tests share the database)."""
    digits = str(int(run, 16))[-6:]
    return f"rejoiner.{run}@example.org", f"+44 7700 9{digits}"


def _home(phone: str) -> dict[str, Any]:
    return {"lat": 51.5, "lng": -0.1, "address": "9 Elm Row", "phone": phone}


async def _suspend(booking: Booking, person_id: str) -> None:
    person = uuid.UUID(person_id)
    await booking.publisher.publish(
        Envelope.wrap(StandingChanged(person_id=person, suspended=True), producer="trust")
    )

    async def held() -> bool:
        async with booking.runtime.uow.read() as repo:
            return await repo.is_suspended(person)

    await eventually(held, what="the suspension applied")


async def _delete_own(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    deleted = await client.request("DELETE", "/v1/me", headers=headers, json={"password": PASSWORD})
    assert deleted.status_code == 204, deleted.text


async def _ask(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post(
        "/v1/requests",
        headers=headers,
        json={"skill": "shopping", "starts_at": future_hour(3).isoformat(), "hours": 1},
    )


async def _reviews(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/v1/operator/reviews", headers=OPERATOR)
    assert response.status_code == 200, response.text
    return [item["person_id"] for item in response.json()["items"]]


async def _kept(booking: Booking) -> list[dict[str, Any]]:
    async with booking.runtime.uow.read() as repo:
        rows = await repo.conn.fetch("SELECT * FROM erased_contacts ORDER BY kind")
    return [dict(row) for row in rows]


async def test_a_suspended_person_who_deletes_and_signs_up_again_is_held_for_review(
    booking: Booking,
) -> None:
    run = uuid.uuid4().hex[:10]
    email, phone = _contact(run)
    first_id, first = await sign_up(booking.client, "Rex", email=email, home=_home(phone))
    await _suspend(booking, first_id)
    before = len(await _kept(booking))
    await _delete_own(booking.client, first)

    # Only keyed hashes are kept, with the erasure they came from and the standing then.
    kept = [row for row in await _kept(booking) if str(row["person_id"]) == first_id]
    assert len(await _kept(booking)) == before + 2
    assert sorted(row["kind"] for row in kept) == ["email", "phone"]
    assert {row["standing"] for row in kept} == {"suspended"}
    text = repr(kept)
    assert email not in text
    assert phone.replace(" ", "") not in text

    # The same email (in other capitals) signs up as anyone would, with a new phone.
    again = await booking.client.post(
        "/v1/people",
        json={
            "display_name": "Rex",
            "email": email.upper(),
            "password": PASSWORD,
            "home": _home("+44 20 7946 0999"),
            "time_zone": "Europe/London",
            "skills": ["shopping"],
            "travel_radius_km": 3,
            "weekly_hour_cap": 6,
            "languages": ["en"],
        },
    )
    assert again.status_code == 201, again.text
    assert set(again.json()) == {"person_id", "token"}
    second_id = again.json()["person_id"]
    second = {"Authorization": f"Bearer {again.json()['token']}"}

    # Held: no help asked for, no offer taken, until an operator has looked.
    refused = await _ask(booking.client, second)
    assert refused.status_code == 403, refused.text
    async with booking.runtime.uow.read() as repo:
        assert await repo.is_suspended(uuid.UUID(second_id))
    seen = await booking.client.get(f"/v1/operator/people/{second_id}", headers=OPERATOR)
    assert seen.status_code == 200, seen.text
    assert seen.json()["review"] == REVIEW
    assert second_id in await _reviews(booking.client)

    unexplained = await booking.client.post(
        f"/v1/operator/people/{second_id}/review", headers=OPERATOR, json={}
    )
    assert unexplained.status_code == 422, unexplained.text
    assert "reason" in unexplained.text
    cleared = await booking.client.post(
        f"/v1/operator/people/{second_id}/review",
        headers=OPERATOR,
        json={"reason": "spoke to them and their referee", "operator": "sam"},
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["review"] is None

    # Cleared: they may ask for help, and leave the operators' list.
    asked = await _ask(booking.client, second)
    assert asked.status_code == 201, asked.text
    assert second_id not in await _reviews(booking.client)
    seen = await booking.client.get(f"/v1/operator/people/{second_id}", headers=OPERATOR)
    assert seen.json()["review"] is None
    again_cleared = await booking.client.post(
        f"/v1/operator/people/{second_id}/review", headers=OPERATOR, json={"reason": "twice"}
    )
    assert again_cleared.status_code == 409, again_cleared.text


async def test_an_operator_erasing_someone_suspended_holds_a_sign_up_with_their_phone(
    booking: Booking,
) -> None:
    run = uuid.uuid4().hex[:10]
    email, phone = _contact(run)
    first_id, _ = await sign_up(booking.client, "Rita", email=email, home=_home(phone))
    await _suspend(booking, first_id)
    erased = await booking.client.post(
        f"/v1/operator/people/{first_id}/erase",
        headers=OPERATOR,
        json={"operator": "sam", "reason": "asked by phone"},
    )
    assert erased.status_code == 200, erased.text

    # Another email, the same phone written otherwise: still held.
    second_id, second = await sign_up(
        booking.client, "Rita", home=_home(phone.replace(" ", "").replace("+44", "+44 "))
    )
    assert (await _ask(booking.client, second)).status_code == 403
    assert second_id in await _reviews(booking.client)


async def test_someone_in_good_standing_who_leaves_may_come_back_freely(
    booking: Booking,
) -> None:
    run = uuid.uuid4().hex[:10]
    email, phone = _contact(run)
    _, first = await sign_up(booking.client, "Gwen", email=email, home=_home(phone))
    before = len(await _kept(booking))
    await _delete_own(booking.client, first)
    assert len(await _kept(booking)) == before

    second_id, second = await sign_up(booking.client, "Gwen", email=email, home=_home(phone))
    asked = await _ask(booking.client, second)
    assert asked.status_code == 201, asked.text
    seen = await booking.client.get(f"/v1/operator/people/{second_id}", headers=OPERATOR)
    assert seen.json()["review"] is None
    assert second_id not in await _reviews(booking.client)
