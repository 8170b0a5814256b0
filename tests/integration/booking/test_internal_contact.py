"""Booking tells notify, and only a bearer of the operators' token, how to reach a person."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import sign_up

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def test_contact_details_go_to_the_operators_token_only(booking: Booking) -> None:
    person_id, headers = await sign_up(booking.client, "Nia", languages=["cy", "en"])

    response = await booking.client.get(
        f"/v1/internal/people/{person_id}/contact", headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    contact = response.json()
    assert contact["email"].startswith("nia-")
    assert contact["display_name"] == "Nia"
    assert contact["languages"] == ["cy", "en"]
    assert contact["time_zone"] == "Europe/London"
    assert contact["phone"] == "+44 20 7946 0000"

    refused = await booking.client.get(f"/v1/internal/people/{person_id}/contact", headers=headers)
    assert refused.status_code == 403
    anonymous = await booking.client.get(f"/v1/internal/people/{person_id}/contact")
    assert anonymous.status_code == 401
    missing = await booking.client.get(
        f"/v1/internal/people/{uuid.uuid4()}/contact", headers=OPERATOR
    )
    assert missing.status_code == 404
    # Internal: not in the public API's document.
    schema = (await booking.client.get("/openapi.json")).json()
    assert not any(path.startswith("/v1/internal") for path in schema["paths"])


async def test_my_notification_preferences_are_kept_checked_and_given_to_notify(
    booking: Booking,
) -> None:
    person_id, headers = await sign_up(booking.client, "Owen", languages=["en", "cy"])
    defaults = await booking.client.get("/v1/me/notifications", headers=headers)
    assert defaults.status_code == 200, defaults.text
    assert defaults.json() == {"channels": {}, "quiet_hours": None, "language": None}

    chosen = {
        "channels": {"offer_received": [], "booking_confirmed": ["email"]},
        "quiet_hours": {"start": "21:30", "end": "08:00"},
        "language": "cy",
    }
    saved = await booking.client.put("/v1/me/notifications", json=chosen, headers=headers)
    assert saved.status_code == 200, saved.text
    assert (await booking.client.get("/v1/me/notifications", headers=headers)).json() == chosen
    contact = await booking.client.get(f"/v1/internal/people/{person_id}/contact", headers=OPERATOR)
    assert contact.json()["preferences"] == chosen

    for bad, field in (
        ({"channels": {"booking_cancelled": []}}, "booking_cancelled"),
        ({"channels": {"no_such_kind": ["email"]}}, "no_such_kind"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "start"),
        ({"language": "Welsh please"}, "language"),
    ):
        refused = await booking.client.put("/v1/me/notifications", json=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)
        assert field in refused.text
    assert (await booking.client.get("/v1/me/notifications", headers=headers)).json() == chosen
    anonymous = await booking.client.get("/v1/me/notifications")
    assert anonymous.status_code == 401


async def test_an_erased_person_cannot_be_reached_and_their_preferences_are_gone(
    booking: Booking,
) -> None:
    person_id, headers = await sign_up(booking.client, "Pat")
    saved = await booking.client.put(
        "/v1/me/notifications", json={"language": "cy"}, headers=headers
    )
    assert saved.status_code == 200, saved.text
    erased = await booking.client.request(
        "DELETE", "/v1/me", json={"password": "a long enough password"}, headers=headers
    )
    assert erased.status_code == 204, erased.text

    contact = await booking.client.get(f"/v1/internal/people/{person_id}/contact", headers=OPERATOR)
    assert contact.status_code == 404
    async with booking.runtime.uow.read() as repo:
        kept = await repo.conn.fetchval(
            "SELECT count(*) FROM notification_preferences WHERE person_id = $1",
            uuid.UUID(person_id),
        )
    assert kept == 0


async def test_contacts_of_a_batch_come_in_one_answer_without_the_erased(
    booking: Booking,
) -> None:
    nia, _ = await sign_up(booking.client, "Nia", languages=["cy"])
    owen, owen_headers = await sign_up(booking.client, "Owen")
    gone, gone_headers = await sign_up(booking.client, "Gone")
    await booking.client.put("/v1/me/notifications", json={"language": "cy"}, headers=owen_headers)
    erased = await booking.client.request(
        "DELETE", "/v1/me", json={"password": "a long enough password"}, headers=gone_headers
    )
    assert erased.status_code == 204, erased.text

    asked = {"person_ids": [nia, owen, owen, gone, str(uuid.uuid4())]}
    response = await booking.client.post(
        "/v1/internal/people/contacts", json=asked, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    items = {item["person_id"]: item for item in response.json()["items"]}
    assert set(items) == {nia, owen}
    assert items[nia]["languages"] == ["cy"]
    assert items[nia]["phone"] == "+44 20 7946 0000"
    assert items[owen]["preferences"]["language"] == "cy"
    single = await booking.client.get(f"/v1/internal/people/{nia}/contact", headers=OPERATOR)
    assert items[nia] == single.json()

    refused = await booking.client.post(
        "/v1/internal/people/contacts", json=asked, headers=owen_headers
    )
    assert refused.status_code == 403
    empty = await booking.client.post(
        "/v1/internal/people/contacts", json={"person_ids": []}, headers=OPERATOR
    )
    assert empty.status_code == 422
    assert "person_ids" in empty.text


def _browser(endpoint: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}


async def test_push_subscriptions_are_mine_go_to_notify_and_go_with_the_account(
    booking: Booking,
) -> None:
    person_id, headers = await sign_up(booking.client, "Sam")
    _, other = await sign_up(booking.client, "Tom")
    # The key browsers subscribe with: none until notify made the development one (or one is
    # set), never an error.
    key = await booking.client.get("/v1/push/key")
    assert key.status_code == 200, key.text
    assert set(key.json()) == {"key"}
    phone = _browser("https://push.example.test/send/phone")
    laptop = _browser("https://push.example.test/send/laptop")
    first = await booking.client.post("/v1/me/push-subscriptions", json=phone, headers=headers)
    assert first.status_code == 201, first.text
    again = await booking.client.post("/v1/me/push-subscriptions", json=phone, headers=headers)
    assert again.json() == first.json(), "the same browser again keeps its id"
    second = await booking.client.post("/v1/me/push-subscriptions", json=laptop, headers=headers)
    assert second.status_code == 201, second.text

    asked = {"person_ids": [person_id]}
    answer = await booking.client.post("/v1/internal/people/contacts", json=asked, headers=OPERATOR)
    [contact] = answer.json()["items"]
    assert [s["endpoint"] for s in contact["push_subscriptions"]] == [
        phone["endpoint"],
        laptop["endpoint"],
    ]
    assert contact["push_subscriptions"][0]["auth"] == "A" * 22

    laptop_id = second.json()["subscription_id"]
    theirs = await booking.client.delete(f"/v1/me/push-subscriptions/{laptop_id}", headers=other)
    assert theirs.status_code == 404, "another person's subscription is not theirs to remove"
    removed = await booking.client.delete(f"/v1/me/push-subscriptions/{laptop_id}", headers=headers)
    assert removed.status_code == 204
    for bad, field in (
        ({**phone, "endpoint": "http://push.example.test/plain"}, "endpoint"),
        ({"endpoint": phone["endpoint"], "keys": {"p256dh": "x", "auth": "A" * 22}}, "p256dh"),
        ({"endpoint": phone["endpoint"]}, "keys"),
    ):
        refused = await booking.client.post("/v1/me/push-subscriptions", json=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)
        assert field in refused.text

    erased = await booking.client.request(
        "DELETE", "/v1/me", json={"password": "a long enough password"}, headers=headers
    )
    assert erased.status_code == 204, erased.text
    async with booking.runtime.uow.read() as repo:
        kept = await repo.conn.fetchval(
            "SELECT count(*) FROM push_subscriptions WHERE person_id = $1", uuid.UUID(person_id)
        )
    assert kept == 0


async def test_my_emergency_contact_is_kept_checked_given_to_notify_and_goes_with_me(
    booking: Booking,
) -> None:
    person_id, headers = await sign_up(booking.client, "Una")
    assert (await booking.client.get("/v1/me/emergency-contact", headers=headers)).json() is None
    named = {"name": "Vera", "email": "vera@example.org", "phone": "+44 7700 900444"}
    saved = await booking.client.put("/v1/me/emergency-contact", json=named, headers=headers)
    assert saved.status_code == 200, saved.text
    assert (await booking.client.get("/v1/me/emergency-contact", headers=headers)).json() == named
    contact = await booking.client.get(f"/v1/internal/people/{person_id}/contact", headers=OPERATOR)
    assert contact.json()["emergency_contact"] == named
    for bad, field in (
        ({"name": "Vera"}, "email address or a phone"),
        ({"name": "Vera", "email": "not an address"}, "email"),
        ({"name": "", "phone": "+44 7700 900444"}, "name"),
    ):
        refused = await booking.client.put("/v1/me/emergency-contact", json=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)
        assert field in refused.text
    removed = await booking.client.delete("/v1/me/emergency-contact", headers=headers)
    assert removed.status_code == 204
    contact = await booking.client.get(f"/v1/internal/people/{person_id}/contact", headers=OPERATOR)
    assert contact.json()["emergency_contact"] is None

    await booking.client.put("/v1/me/emergency-contact", json=named, headers=headers)
    erased = await booking.client.request(
        "DELETE", "/v1/me", json={"password": "a long enough password"}, headers=headers
    )
    assert erased.status_code == 204, erased.text
    async with booking.runtime.uow.read() as repo:
        kept = await repo.conn.fetchval(
            "SELECT count(*) FROM emergency_contacts WHERE person_id = $1", uuid.UUID(person_id)
        )
    assert kept == 0
