"""Concerns cannot be used as a weapon: only about someone one has (or recently had) a visit
with, a few a day per person, and operators see who raised how many."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from shared.contracts import utc_now
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import booked, future_hour, sign_up

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def _concern(
    client: httpx.AsyncClient, headers: dict[str, str], about_id: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/v1/concerns",
        headers=headers,
        json={"about_id": about_id, "summary": f"worried {uuid.uuid4().hex[:6]}", **extra},
    )


async def _move_visit(booking: Booking, booking_id: str, days_ago: int) -> None:
    """Set a visit in the past (the API books only future hours)."""
    async with booking.runtime.uow.begin() as repo:
        await repo.conn.execute(
            "UPDATE bookings SET starts_at = $2 WHERE booking_id = $1",
            uuid.UUID(booking_id),
            utc_now() - timedelta(days=days_ago),
        )


async def test_a_concern_needs_a_visit_within_the_window(booking: Booking) -> None:
    window = booking.settings.concern_window_days
    _, neighbour = await sign_up(booking.client, "Winnie")
    helper_id, helper = await sign_up(booking.client, "Wade")
    uow = booking.runtime.uow
    old = await booked(booking.client, uow, neighbour, helper_id, helper, future_hour(2))
    await _move_visit(booking, old, window + 5)

    refused = await _concern(booking.client, neighbour, helper_id)
    assert refused.status_code == 404, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    named = await _concern(booking.client, neighbour, helper_id, booking_id=old)
    assert named.status_code == 404, "naming an old visit does not open the window"

    await _move_visit(booking, old, window - 1)
    assert (await _concern(booking.client, neighbour, helper_id)).status_code == 201


async def test_concerns_are_limited_per_person_and_counted_for_operators(
    booking: Booking,
) -> None:
    limit = booking.settings.concern_limit
    raiser_id, raiser = await sign_up(booking.client, "Rhoda")
    uow = booking.runtime.uow
    others = []
    for index in range(limit + 1):
        helper_id, helper = await sign_up(booking.client, f"Helper{index}")
        await booked(booking.client, uow, raiser, helper_id, helper, future_hour(3, index * 3))
        others.append(helper_id)

    raised = [await _concern(booking.client, raiser, about) for about in others[:limit]]
    assert [response.status_code for response in raised] == [201] * limit
    refused = await _concern(booking.client, raiser, others[limit])
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= booking.settings.concern_limit_window_h * 3600
    assert "concerns" in refused.json()["detail"]

    listed = await booking.client.get("/v1/operator/concerns?limit=500", headers=OPERATOR)
    assert listed.status_code == 200, listed.text
    mine = [c for c in listed.json()["items"] if str(c["raised_by_id"]) == raiser_id]
    assert len(mine) == limit
    assert {c["raised_by_count"] for c in mine} == {limit}

    person = await booking.client.get(f"/v1/operator/people/{raiser_id}", headers=OPERATOR)
    assert person.json()["concerns"] == {"raised": limit, "about": 0}
    about = await booking.client.get(f"/v1/operator/people/{others[0]}", headers=OPERATOR)
    assert about.json()["concerns"] == {"raised": 0, "about": 1}
