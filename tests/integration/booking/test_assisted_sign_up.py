"""Assisted sign-up: an operator registers someone who phoned in, with their consent, through
the real API, database and broker. The consent and the operator are kept with the person,
the audit entry names the operator and the reason and holds no personal value, and the
person is sent a welcome link (ids only on the topic) that lets them choose a password."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from shared import geo
from shared.contracts.people import AccountLinkRequested, LinkPurpose, PersonProfileChanged
from shared.contracts.topics import ACCOUNTS, PEOPLE
from tests.conftest import Stack
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import TopicReader, sign_up, signed_in_operator

BOOTSTRAP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
#: A neighbourhood in Cardiff, as the console offers it by its name.
CARDIFF = geo.neighbourhood_of(51.4816, -3.1791)


def a_mobile() -> str:
    return f"+447700{random.randint(100000, 999999)}"


def someone(phone: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": "Mrs Okafor",
        "home": {"address": "12 Mill Lane", "neighbourhood": CARDIFF},
        "languages": ["en"],
        "needs": ["shopping", "company"],
        "offers": ["forms_and_phones"],
        "consent": {"method": "verbal", "given_at": "2026-03-02T10:15:00Z"},
        "reason": "Phoned the office; asked to join",
        **fields,
    }
    if phone is not None:
        body["phone"] = phone
    return body


async def test_a_coordinator_registers_someone_by_phone_with_their_consent(
    stack: Stack, booking: Booking
) -> None:
    coordinator, account = await signed_in_operator(booking.client, BOOTSTRAP, "Cora Diaz")
    phone = a_mobile()
    key = {"Idempotency-Key": f"assisted-{uuid.uuid4()}"}
    async with (
        TopicReader(stack.bootstrap, ACCOUNTS.name) as accounts,
        TopicReader(stack.bootstrap, PEOPLE.name) as people,
    ):
        made = await booking.client.post(
            "/v1/operator/people", headers={**coordinator, **key}, json=someone(phone)
        )
        assert made.status_code == 201, made.text
        person_id = made.json()["person_id"]
        assert made.json()["welcome"] == "text message"
        # A retry with the same key registers nobody twice.
        again = await booking.client.post(
            "/v1/operator/people", headers={**coordinator, **key}, json=someone(phone)
        )
        assert again.status_code == 201
        assert again.json()["person_id"] == person_id
        assert again.headers["Idempotent-Replayed"] == "true"

        [welcome] = await accounts.wait_for(
            lambda e: (
                isinstance(e.data, AccountLinkRequested) and str(e.data.person_id) == person_id
            ),
            what="the welcome link",
        )
        [profile] = await people.wait_for(
            lambda e: (
                isinstance(e.data, PersonProfileChanged) and str(e.data.person_id) == person_id
            ),
            what="the new profile",
        )
    assert isinstance(welcome.data, AccountLinkRequested)
    assert welcome.data.purpose is LinkPurpose.WELCOME
    assert isinstance(profile.data, PersonProfileChanged)
    assert profile.data.neighbourhood == CARDIFF
    assert [str(skill) for skill in profile.data.skills] == ["forms_and_phones"]
    # Neither the phone nor the address travels.
    for record in accounts.raw + people.raw:
        if person_id.encode() in record.value:
            assert phone[1:].encode() not in record.value
            assert b"Mill Lane" not in record.value

    # The consent and who took it are kept with the person; an operator sees them.
    view = await booking.client.get(
        f"/v1/operator/people/{person_id}",
        headers=coordinator,
        params={"reason": "Checking the registration"},
    )
    assert view.status_code == 200, view.text
    assisted = view.json()["assisted_sign_up"]
    assert assisted["consent"] == {
        "method": "verbal",
        "given_at": "2026-03-02T10:15:00Z",
        "recorded_by": "Cora Diaz",
    }
    assert assisted["registered_by"] == "Cora Diaz"
    assert assisted["needs"] == ["shopping", "company"]

    # One entry on the trail, naming the operator and the reason, with no personal value.
    trail = await booking.client.get(
        "/v1/operator/audit",
        headers=BOOTSTRAP,
        params={"subject_id": person_id, "action": "person.assisted_sign_up"},
    )
    [entry] = trail.json()["items"]
    assert entry["operator"] == "Cora Diaz"
    assert entry["operator_id"] == account["operator_id"]
    assert entry["reason"] == "Phoned the office; asked to join"
    assert entry["details"] == {"contact": ["phone"], "consent_method": "verbal"}
    written = json.dumps(entry)
    for personal in (phone, phone[1:], "Okafor", "Mill Lane"):
        assert personal not in written

    # The welcome link lets them choose a password; then they sign in with their phone.
    token = await booking.client.post(
        f"/v1/internal/account-links/{welcome.data.link_id}/token", headers=BOOTSTRAP
    )
    assert token.status_code == 200, token.text
    chosen = await booking.client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": token.json()["token"], "password": "her own long password"},
    )
    assert chosen.status_code == 200, chosen.text
    signed_in = await booking.client.post(
        "/v1/sessions", json={"phone": phone, "password": "her own long password"}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["person_id"] == person_id
    # What Kith holds about her includes how she was registered and how she agreed.
    exported = await booking.client.get(
        "/v1/me/export", headers={"Authorization": f"Bearer {signed_in.json()['token']}"}
    )
    assert exported.json()["assisted_sign_up"]["consent"]["method"] == "verbal"


async def test_who_may_register_someone(booking: Booking) -> None:
    lead, _ = await signed_in_operator(booking.client, BOOTSTRAP, "Sam Okoye", "safeguarding_lead")
    admin, _ = await signed_in_operator(booking.client, BOOTSTRAP, "Ana Reyes", "administrator")
    for operator in (lead, admin):
        made = await booking.client.post(
            "/v1/operator/people", headers=operator, json=someone(a_mobile())
        )
        assert made.status_code == 201, made.text
    _, person = await sign_up(booking.client, "Nia")
    refused = await booking.client.post(
        "/v1/operator/people", headers=person, json=someone(a_mobile())
    )
    assert refused.status_code == 403
    anonymous = await booking.client.post("/v1/operator/people", json=someone(a_mobile()))
    assert anonymous.status_code == 401


async def test_a_taken_phone_and_no_way_to_reach_them_are_refused(booking: Booking) -> None:
    coordinator, account = await signed_in_operator(booking.client, BOOTSTRAP, "Cora Diaz")
    phone = a_mobile()
    first = await booking.client.post(
        "/v1/operator/people", headers=coordinator, json=someone(phone)
    )
    assert first.status_code == 201, first.text
    taken = await booking.client.post(
        "/v1/operator/people", headers=coordinator, json=someone(phone)
    )
    assert taken.status_code == 409, taken.text
    assert "phone number" in taken.json()["detail"]

    neither = await booking.client.post("/v1/operator/people", headers=coordinator, json=someone())
    assert neither.status_code == 422
    assert neither.json()["errors"][0]["field"] == "phone"
    nowhere = await booking.client.post(
        "/v1/operator/people",
        headers=coordinator,
        json=someone(a_mobile(), home={"address": "12 Mill Lane"}),
    )
    assert nowhere.status_code == 422
    assert nowhere.json()["errors"][0]["field"] == "home"
    no_consent = someone(a_mobile())
    del no_consent["consent"]
    refused = await booking.client.post("/v1/operator/people", headers=coordinator, json=no_consent)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "consent"

    # A refusal keeps nothing: not even an entry on the trail.
    trail = await booking.client.get(
        "/v1/operator/audit", headers=BOOTSTRAP, params={"action": "person.assisted_sign_up"}
    )
    mine = [e for e in trail.json()["items"] if e["operator_id"] == account["operator_id"]]
    assert len(mine) == 1
