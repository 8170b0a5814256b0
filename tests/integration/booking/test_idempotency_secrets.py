"""Idempotency records keep no secret: no token, no password-derived digest, not for ever."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from services.booking.service_layer import accounts
from shared.contracts import utc_now
from tests.integration.booking.conftest import Booking

PASSWORD = "a long enough password"


def _sign_up_body(name: str) -> dict[str, Any]:
    return {
        "display_name": name,
        "email": f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.org",
        "password": PASSWORD,
        "home": {"lat": 51.5, "lng": -0.1, "address": "3 Mill Lane", "phone": "+44 20 7946 0001"},
        "time_zone": "Europe/London",
        "skills": ["shopping"],
    }


async def _records(booking: Booking, key: str) -> list[dict[str, Any]]:
    async with booking.runtime.uow.read() as repo:
        rows = await repo.conn.fetch(
            "SELECT route, body_digest, status, response, created_at FROM idempotency_keys"
            " WHERE key = $1",
            key,
        )
    return [dict(row) for row in rows]


async def _status_of_me(booking: Booking, token: str) -> int:
    answer = await booking.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


async def test_a_retried_sign_up_keeps_no_token_and_answers_with_a_fresh_one(
    booking: Booking,
) -> None:
    body = _sign_up_body("Nell")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await booking.client.post("/v1/people", json=body, headers=key)
    again = await booking.client.post("/v1/people", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["person_id"] == first.json()["person_id"]
    tokens = [first.json()["token"], again.json()["token"]]
    assert tokens[0] != tokens[1], "a retry gets a token of its own, not a stored one"
    assert [await _status_of_me(booking, token) for token in tokens] == [200, 200]

    (record,) = await _records(booking, key["Idempotency-Key"])
    stored = record["response"]
    assert all(token not in stored for token in tokens)
    assert "token" not in json.loads(stored)
    assert body["email"] not in stored
    # The body (email and password) is kept only as a keyed hash: without the server's
    # secret, no dictionary of guesses can be checked against it.
    unkeyed = {
        hashlib.sha256(text.encode()).digest()
        for text in (json.dumps(body), json.dumps(body, separators=(",", ":")))
    }
    assert record["body_digest"] not in unkeyed
    assert len(record["body_digest"]) == 32

    changed = await booking.client.post(
        "/v1/people", json={**body, "password": "another long password"}, headers=key
    )
    assert changed.status_code == 422, "the keyed hash still tells a different body"


async def test_a_retried_sign_in_keeps_no_token_and_answers_with_a_fresh_one(
    booking: Booking,
) -> None:
    body = _sign_up_body("Orla")
    assert (await booking.client.post("/v1/people", json=body)).status_code == 201
    key = {"Idempotency-Key": uuid.uuid4().hex}
    credentials = {"email": body["email"], "password": PASSWORD}
    first = await booking.client.post("/v1/sessions", json=credentials, headers=key)
    again = await booking.client.post("/v1/sessions", json=credentials, headers=key)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    tokens = [first.json()["token"], again.json()["token"]]
    assert tokens[0] != tokens[1]
    assert [await _status_of_me(booking, token) for token in tokens] == [200, 200]
    (record,) = await _records(booking, key["Idempotency-Key"])
    assert all(token not in record["response"] for token in tokens)
    assert PASSWORD not in record["response"]

    wrong = await booking.client.post(
        "/v1/sessions", json={**credentials, "password": "not the password"}, headers=key
    )
    assert wrong.status_code == 401, "a retry proves the password again"


async def test_records_expire_after_a_day_and_the_sweep_deletes_them(booking: Booking) -> None:
    old_key, new_key = uuid.uuid4().hex, uuid.uuid4().hex
    old_body, new_body = _sign_up_body("Pip"), _sign_up_body("Quin")
    for key, body in ((old_key, old_body), (new_key, new_body)):
        answer = await booking.client.post(
            "/v1/people", json=body, headers={"Idempotency-Key": key}
        )
        assert answer.status_code == 201
    ttl = timedelta(seconds=booking.settings.idempotency_ttl_s)
    assert ttl == timedelta(days=1)
    async with booking.runtime.uow.read() as repo:
        await repo.conn.execute(
            "UPDATE idempotency_keys SET created_at = $2 WHERE key = $1",
            old_key,
            utc_now() - ttl - timedelta(minutes=1),
        )

    # An expired key is a new request, even before the sweep has run.
    other = _sign_up_body("Rafe")
    fresh = await booking.client.post(
        "/v1/people", json=other, headers={"Idempotency-Key": old_key}
    )
    assert fresh.status_code == 201, fresh.text
    assert "idempotent-replayed" not in fresh.headers
    async with booking.runtime.uow.read() as repo:
        await repo.conn.execute(
            "UPDATE idempotency_keys SET created_at = $2 WHERE key = $1",
            old_key,
            utc_now() - ttl - timedelta(minutes=1),
        )

    forgotten = await accounts.forget_expired_idempotency_keys(
        booking.runtime.uow, utc_now(), booking.settings.idempotency_ttl_s
    )
    assert forgotten >= 1
    assert await _records(booking, old_key) == []
    assert len(await _records(booking, new_key)) == 1
