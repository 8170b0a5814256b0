"""Request size limits: an oversized body is a 413 problem, and every text field and list a
client sends has a bound the OpenAPI document shows."""

from __future__ import annotations

import uuid

from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import sign_up
from tests.support import oversized_chunks, unbounded_inputs


async def test_a_body_over_the_limit_is_refused_with_a_413_problem(booking: Booking) -> None:
    limit = booking.settings.http_max_body_bytes
    _, headers = await sign_up(booking.client, "Tess")
    declared = await booking.client.post(
        "/v1/requests", headers=headers, content=b"{" + b" " * limit + b"}"
    )
    streamed = await booking.client.post(
        "/v1/concerns",
        headers={**headers, "Content-Type": "application/json"},
        content=oversized_chunks(limit + 1),
    )
    for refused in (declared, streamed):
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 413
        assert str(limit) in refused.json()["detail"]
    # Just under the limit is read (and refused only for what it says).
    under = await booking.client.post(
        "/v1/sessions",
        json={"email": f"u-{uuid.uuid4().hex}@example.org", "password": "x" * 200},
    )
    assert under.status_code == 401


async def test_every_text_field_and_list_a_client_sends_is_bounded(booking: Booking) -> None:
    document = (await booking.client.get("/openapi.json")).json()
    assert unbounded_inputs(document) == []
    assert "413" in document["paths"]["/v1/people"]["post"]["responses"]
    long_name = await booking.client.post(
        "/v1/people",
        json={
            "display_name": "x" * 81,
            "email": "a@example.org",
            "password": "a long enough password",
            "home": {"lat": 51.5, "lng": -0.1, "address": "1 Road"},
            "time_zone": "Europe/London",
            "languages": ["en"] * 11,
        },
    )
    assert long_name.status_code == 422
    fields = {error["field"] for error in long_name.json()["errors"]}
    assert {"display_name", "languages"} <= fields
