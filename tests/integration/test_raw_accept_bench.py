"""``kith bench booking``'s raw ceiling: the accept-shaped transaction it times, at a tiny size."""

from __future__ import annotations

import asyncpg

from kith.bench.raw_accept import raw_accepts
from tests.conftest import Stack
from tests.support import new_database


async def test_the_raw_ceiling_accepts_every_offer_once_and_prints_its_figures(
    stack: Stack,
) -> None:
    url = await new_database(stack.settings(), "raw")

    figures = await raw_accepts(url, clients=4, accepts=20)

    assert set(figures) == {"raw_accepts_per_s", "raw_p99_ms"}
    assert figures["raw_accepts_per_s"] > 0
    conn = await asyncpg.connect(url)
    try:
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM raw_bookings) AS bookings,"
            " (SELECT count(*) FROM raw_helper_hours) AS hours,"
            " (SELECT count(*) FROM raw_outbox) AS outbox,"
            " (SELECT count(*) FROM raw_offers WHERE status = 'accepted') AS accepted"
        )
    finally:
        await conn.close()
    assert counts is not None
    assert dict(counts) == {"bookings": 20, "hours": 20, "outbox": 20, "accepted": 20}
