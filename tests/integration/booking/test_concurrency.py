"""pretix's pair: the race is real without the guard, and with it exactly one accept wins."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime, timedelta

import asyncpg

from services.booking.domain.visits import booked_hours
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


async def _unguarded_accept(
    url: str, table: str, helper_id: uuid.UUID, hours: list[datetime], barrier: asyncio.Barrier
) -> bool:
    """The accept's check-then-write with the guard off: no row lock, no unique constraint."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            taken = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE helper_id = $1 AND hour = ANY($2)",
                helper_id,
                hours,
            )
            # Every client has checked before any writes: the window the guard closes.
            await barrier.wait()
            if taken:
                return False
            booking_id = uuid.uuid4()
            await conn.executemany(
                f"INSERT INTO {table} (helper_id, hour, booking_id) VALUES ($1, $2, $3)",
                [(helper_id, hour, booking_id) for hour in hours],
            )
        return True
    finally:
        await conn.close()


async def test_control_without_the_guard_the_race_double_books(booking: Booking) -> None:
    url = booking.runtime.database_url
    table = f"control_hours_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    try:
        # helper_hours' shape without its primary key.
        await admin.execute(
            f"CREATE TABLE {table} (helper_id uuid NOT NULL, hour timestamptz NOT NULL,"
            " booking_id uuid NOT NULL)"
        )
        helper_id = uuid.uuid4()
        start = future_hour(days=20)
        clients = 8
        barrier = asyncio.Barrier(clients)
        won = await asyncio.gather(
            *(
                _unguarded_accept(
                    url, table, helper_id, booked_hours(start + timedelta(hours=i % 2), 2), barrier
                )
                for i in range(clients)
            )
        )
        bookings = await admin.fetchval(f"SELECT count(DISTINCT booking_id) FROM {table}")
        assert sum(won) > 1
        assert bookings > 1  # overlapping bookings of one helper: the race happened
    finally:
        await admin.execute(f"DROP TABLE IF EXISTS {table}")
        await admin.close()
