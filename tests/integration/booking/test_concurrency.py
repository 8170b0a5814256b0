"""pretix's pair: the race is real without the guard, and with it exactly one accept wins."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import ask, future_hour, seed_offer, sign_up

CLIENTS = 64


async def test_64_concurrent_accepts_of_overlapping_slots_book_exactly_one(
    booking: Booking,
) -> None:
    _, neighbour = await sign_up(booking.client, "Orla")
    helper_id, helper = await sign_up(booking.client, "Ike")
    start = future_hour(days=12)
    offer_ids = []
    for index in range(CLIENTS):
        series = await ask(booking.client, neighbour, start + timedelta(hours=index % 3), 3)
        request_id = series["occurrences"][0]["request_id"]
        offer_ids.append(await seed_offer(booking.runtime.uow, request_id, helper_id))

    # More clients than pooled connections: the surplus waits for one, never fails.
    responses = await asyncio.gather(
        *(
            booking.client.post(f"/v1/offers/{offer_id}/accept", headers=helper)
            for offer_id in offer_ids
        )
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: CLIENTS - 1}, statuses
    assert all(
        r.headers["content-type"] == "application/problem+json" and "overlaps" in r.json()["detail"]
        for r in responses
        if r.status_code == 409
    )
    upcoming = (await booking.client.get("/v1/bookings?when=upcoming", headers=helper)).json()
    assert len(upcoming["items"]) == 1


@asynccontextmanager
async def _guard_off(booking: Booking, helper_id: str) -> AsyncIterator[None]:
    """Drop the guard (helper_hours' primary key) for the block; put it back after, without
    the control helper's hours (which it would refuse)."""
    async with booking.runtime.uow.begin() as repo:
        await repo.conn.execute("ALTER TABLE helper_hours DROP CONSTRAINT helper_hours_no_overlap")
    try:
        yield
    finally:
        async with booking.runtime.uow.begin() as repo:
            await repo.conn.execute(
                "DELETE FROM helper_hours WHERE helper_id = $1", uuid.UUID(helper_id)
            )
            await repo.conn.execute(
                "ALTER TABLE helper_hours"
                " ADD CONSTRAINT helper_hours_no_overlap PRIMARY KEY (helper_id, hour)"
            )


async def test_control_without_the_guard_the_race_double_books(booking: Booking) -> None:
    """The same accepts through the real path, with the guard switched off: several win."""
    _, neighbour = await sign_up(booking.client, "Olga")
    helper_id, helper = await sign_up(booking.client, "Ivor")
    start = future_hour(days=20)
    clients = 8
    offer_ids = []
    for index in range(clients):
        series = await ask(booking.client, neighbour, start + timedelta(hours=index % 2), 2)
        request_id = series["occurrences"][0]["request_id"]
        offer_ids.append(await seed_offer(booking.runtime.uow, request_id, helper_id))

    async with _guard_off(booking, helper_id):
        responses = await asyncio.gather(
            *(
                booking.client.post(f"/v1/offers/{offer_id}/accept", headers=helper)
                for offer_id in offer_ids
            )
        )
    won = [response for response in responses if response.status_code == 201]
    assert len(won) > 1, [response.text for response in responses]
    upcoming = (await booking.client.get("/v1/bookings?when=upcoming", headers=helper)).json()
    assert len(upcoming["items"]) > 1  # overlapping bookings of one helper: the race happened
