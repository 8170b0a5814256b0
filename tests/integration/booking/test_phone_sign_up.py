"""Signing up and in with a mobile phone number instead of an email, through the real API
and database: one number, one account; the number never travels on a topic."""

from __future__ import annotations

import random
import uuid
from typing import Any

from shared.contracts.people import AccountLinkRequested, LinkPurpose, PersonProfileChanged
from shared.contracts.topics import ACCOUNTS, PEOPLE
from tests.conftest import Stack
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import TopicReader

PASSWORD = "a long enough password"


def a_mobile() -> str:
    return f"+447700{random.randint(100000, 999999)}"


def body(**fields: Any) -> dict[str, Any]:
    return {
        "display_name": "Gwen",
        "password": PASSWORD,
        "home": {"lat": 51.48, "lng": -3.18, "address": "3 Heol y Plwyf"},
        "time_zone": "Europe/London",
        **fields,
    }


async def test_a_person_signs_up_with_a_phone_only_and_signs_in_with_it(
    stack: Stack, booking: Booking
) -> None:
    phone = a_mobile()
    async with TopicReader(stack.bootstrap, PEOPLE.name) as people:
        created = await booking.client.post("/v1/people", json=body(phone=phone))
        assert created.status_code == 201, created.text
        person_id = created.json()["person_id"]
        [published] = await people.wait_for(
            lambda e: (
                isinstance(e.data, PersonProfileChanged) and str(e.data.person_id) == person_id
            ),
            what="the new profile",
        )
    # The number stays in booking: not on the topic, not even in the raw record.
    raw = next(r for r in people.raw if person_id.encode() in r.value)
    assert phone[1:].encode() not in raw.value
    assert isinstance(published.data, PersonProfileChanged)
    assert published.data.display_name == "Gwen"

    signed_in = await booking.client.post(
        "/v1/sessions", json={"phone": phone, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["person_id"] == person_id
    headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    me = (await booking.client.get("/v1/me", headers=headers)).json()
    assert me["email"] is None
    assert me["phone"] == phone
    # Texts go to the number signed up with, as no other phone was given.
    assert me["home"]["phone"] == phone

    wrong = await booking.client.post("/v1/sessions", json={"phone": phone, "password": "x" * 12})
    assert wrong.status_code == 401


async def test_a_phone_number_belongs_to_one_account(booking: Booking) -> None:
    phone = a_mobile()
    first = await booking.client.post("/v1/people", json=body(phone=phone))
    assert first.status_code == 201, first.text
    again = await booking.client.post(
        "/v1/people", json=body(phone=phone, email=f"gwen-{uuid.uuid4().hex[:8]}@example.org")
    )
    assert again.status_code == 409, again.text
    assert "phone number" in again.json()["detail"]


async def test_an_email_or_a_phone_is_needed_and_a_phone_must_be_e164(booking: Booking) -> None:
    neither = await booking.client.post("/v1/people", json=body())
    assert neither.status_code == 422, neither.text
    problem = neither.json()
    assert problem["errors"] == [
        {"field": "email", "reason": "give an email or a mobile phone number (phone), or both"}
    ]

    local = await booking.client.post("/v1/people", json=body(phone="07700 900123"))
    assert local.status_code == 422
    [error] = local.json()["errors"]
    assert error["field"] == "phone"
    assert "E.164" in error["reason"]

    nobody = await booking.client.post("/v1/sessions", json={"password": PASSWORD})
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "email"


async def test_an_account_with_both_signs_in_with_either(booking: Booking) -> None:
    phone, email = a_mobile(), f"rhys-{uuid.uuid4().hex[:8]}@example.org"
    created = await booking.client.post("/v1/people", json=body(phone=phone, email=email))
    assert created.status_code == 201, created.text
    for named in ({"phone": phone}, {"email": email.upper()}):
        answer = await booking.client.post("/v1/sessions", json={**named, "password": PASSWORD})
        assert answer.status_code == 200, (named, answer.text)
        assert answer.json()["person_id"] == created.json()["person_id"]


async def test_a_phone_only_person_asks_for_a_reset_link_by_phone(
    stack: Stack, booking: Booking
) -> None:
    phone = a_mobile()
    created = await booking.client.post("/v1/people", json=body(phone=phone))
    person_id = created.json()["person_id"]
    async with TopicReader(stack.bootstrap, ACCOUNTS.name) as accounts:
        asked = await booking.client.post("/v1/auth/password-reset", json={"phone": phone})
        assert asked.status_code == 202, asked.text
        # A number with no account gets the same answer, and nothing is sent.
        unknown = await booking.client.post("/v1/auth/password-reset", json={"phone": a_mobile()})
        assert unknown.json() == asked.json()
        [link] = await accounts.wait_for(
            lambda e: (
                isinstance(e.data, AccountLinkRequested) and str(e.data.person_id) == person_id
            ),
            what="the reset link's event",
        )
    assert isinstance(link.data, AccountLinkRequested)
    assert link.data.purpose is LinkPurpose.RESET_PASSWORD
    # No verification link for an account with no email; and no number on the topic.
    mine = [r for r in accounts.raw if person_id.encode() in r.value]
    assert len(mine) == 1
    assert phone[1:].encode() not in mine[0].value
