"""Booking tells notify, and only a bearer of the operators' token, how to reach a person."""

from __future__ import annotations

import uuid

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
