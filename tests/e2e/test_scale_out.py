"""Scale-out on one machine: two booking APIs and two matching workers share the work.

The processes run against the test session's broker and database, each booking on a port of
its own (a load balancer's job, here split by the test), the matching workers in one group.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from asyncpg import Record

from kith.faults.matcher_kill import assigned_partitions
from kith.faults.neighbourhoods import Decision, decisions, matched_neighbourhoods
from kith.faults.platform import platform
from kith.faults.processes import ServiceProcess
from kith.faults.reading import read_only
from kith.faults.world import Api, ask, hour_from_now
from shared.contracts.requests import OfferMade
from shared.contracts.topics import NEIGHBOURHOOD_PARTITIONS
from tests.conftest import Stack
from tests.support import eventually

pytestmark = pytest.mark.e2e

REQUESTS_PER_NEIGHBOURHOOD = 8
CASCADE_WIDTH = 3


async def test_two_bookings_and_two_matchers_split_the_work_and_offer_each_request_once(
    own_stack: Stack, tmp_path: Path
) -> None:
    stack = own_stack
    async with platform(
        tmp_path, bootstrap=stack.bootstrap, database_url=stack.database_url
    ) as kith:
        bookings = [kith.add("booking", name=f"booking-{n}", http=True) for n in (1, 2)]
        workers = [kith.add("matching", name=f"matching-{n}") for n in (1, 2)]
        await kith.start_all(*bookings, *workers, kith.add("trust"))
        split = await eventually(lambda: _split(workers), timeout_s=60, what="a split")
        api = Api(*(booking.api for booking in bookings))
        try:
            hoods = await matched_neighbourhoods(
                api, kith.bootstrap, kith.operator_token, NEIGHBOURHOOD_PARTITIONS
            )
            started = time.monotonic()
            posted = list(
                await asyncio.gather(
                    *(
                        ask(
                            api,
                            hood.neighbour,
                            hour_from_now(hour, days=2),
                            key=f"scale-{hood.neighbour.person_id}-{hour}",
                            via=hour,
                        )
                        for hour in range(REQUESTS_PER_NEIGHBOURHOOD)
                        for hood in hoods
                    )
                )
            )
            offered = await eventually(
                lambda: _all_offered(kith.bootstrap, posted), timeout_s=60, what="every offer"
            )
            seconds = time.monotonic() - started
        finally:
            await api.close()
        rows = await eventually(
            lambda: _offers_held(kith.settings().database_for("booking"), posted),
            timeout_s=30,
            what="booking to hold the offers",
        )

    print(
        f"\nscale-out: {len(posted)} requests offered in {seconds:.2f} s "
        f"({len(posted) / seconds:.0f} requests/s), partitions {split}"
    )
    assert sorted(split[0] + split[1]) == list(range(NEIGHBOURHOOD_PARTITIONS))
    assert split[0], "the first matching worker owns partitions"
    assert split[1], "the second matching worker owns partitions"
    per_pair = Counter((row["request_id"], row["helper_id"]) for row in rows)
    assert max(per_pair.values()) == 1, "no helper sees one request twice"
    assert {row["round"] for row in rows} == {1}, "nobody declined: one round per request"
    per_request = Counter(str(row["request_id"]) for row in rows)
    assert set(per_request) == set(posted), "booking holds offers for every request"
    assert max(per_request.values()) <= CASCADE_WIDTH
    for request_id in posted:
        helpers = {o.helper_id for o in offered[request_id] if isinstance(o, OfferMade)}
        assert len(helpers) == per_request[request_id], "the topic and booking agree"


async def _split(workers: list[ServiceProcess]) -> tuple[list[int], list[int]] | None:
    """The two workers' partitions once each has some and together they have them all."""
    first, second = (assigned_partitions(worker) for worker in workers)
    covered = sorted(first + second) == list(range(NEIGHBOURHOOD_PARTITIONS))
    return (first, second) if first and second and covered else None


async def _all_offered(bootstrap: str, posted: list[str]) -> dict[str, list[Decision]] | None:
    seen = await decisions(bootstrap)
    done = all(any(isinstance(d, OfferMade) for d in seen.get(r, [])) for r in posted)
    return seen if done else None


async def _offers_held(database: str, posted: list[str]) -> list[Record] | None:
    """Booking's offers of the posted requests, once it holds some for every one of them."""
    async with read_only(database) as db:
        rows: list[Record] = await db.fetch(
            "SELECT request_id, helper_id, round FROM offers WHERE request_id = ANY($1::uuid[])",
            posted,
        )
    return rows if {str(row["request_id"]) for row in rows} == set(posted) else None
