"""``matcher_kill``: two matching workers share the work; one is SIGKILLed mid-stream.

Requests flow at a steady rate over neighbourhoods on every partition. Once the stream is
well under way, a worker chosen by the seeded RNG is killed; the survivor takes over its
partitions after the group notices (the session timeout) and rebalances.

What is checked, per request posted:

* lost: the request got no ``OfferMade`` on ``kith.offers.v1`` (every request here has
  vetted, free helpers next door, so each must be offered);
* duplicate effects: a request decided twice. Nobody declines and no offer lapses during
  the scenario, so each request has exactly one round: an offer in a later round, more
  helpers in round one than the cascade's width, or one helper offered one request under two
  offer ids, is a second decision. Booking's table of offers (what helpers see) is checked
  the same way: one row per request and helper. Copies of the same offer (the same id, sent
  again after the takeover) are allowed: at least once.
* recovery (rebalance) time: from the kill until the first offer the survivor made for a
  request on one of the victim's partitions (the workers log the partitions they are given).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from kith.faults.neighbourhoods import Neighbourhood, decisions, matched_neighbourhoods
from kith.faults.platform import Platform, platform
from kith.faults.processes import ServiceProcess
from kith.faults.reading import events_of, read_only, read_topics, settle
from kith.faults.result import ScenarioResult
from kith.faults.world import (
    Api,
    ask,
    hour_from_now,
    partition_of,
)
from services.matching.progress import WATCH_EVERY_S
from shared import clock
from shared.contracts.requests import OfferMade, RequestUnmatched
from shared.contracts.topics import NEIGHBOURHOOD_PARTITIONS, OFFERS

log = structlog.get_logger(__name__)

#: The cascade's width in this scenario (the default): at most this many offers a round.
_WIDTH = 3


@dataclass(frozen=True)
class MatcherKillOptions:
    """Requests posted, their rate, and the RNG's seed (which worker dies, and when)."""

    requests: int = 600
    rate: float = 20.0
    seed: int = 7


async def run_matcher_kill(folder: Path, options: MatcherKillOptions) -> ScenarioResult:
    """Post requests while one of two matching workers is killed; check every request."""
    async with platform(folder) as kith:
        booking = kith.add("booking", http=True)
        workers = [kith.add("matching", name=f"matching-{n}") for n in (1, 2)]
        await kith.start_all(booking, kith.add("trust"), *workers)
        api = Api(booking.api)
        try:
            world = await matched_neighbourhoods(
                api, kith.bootstrap, kith.operator_token, NEIGHBOURHOOD_PARTITIONS
            )
            posted, killed = await _stream_and_kill(api, world, workers, options)
        finally:
            await api.close()
        return await _check(kith, posted, killed)


@dataclass
class _Kill:
    victim: str
    partitions: list[int]
    at: datetime


async def _stream_and_kill(
    api: Api,
    world: list[Neighbourhood],
    workers: list[ServiceProcess],
    options: MatcherKillOptions,
) -> tuple[dict[str, int], _Kill]:
    """Post requests at a steady rate; kill one worker a quarter to two fifths of the way in.

    Returns each request's partition, and the kill.
    """
    rng = random.Random(options.seed)
    victim = workers[rng.randrange(len(workers))]
    kill_after = options.requests * rng.uniform(0.25, 0.4)
    posted: dict[str, int] = {}
    tasks: list[asyncio.Task[None]] = []
    killed: _Kill | None = None
    run = uuid.uuid4().hex[:6]
    started = time.monotonic()

    async def post(index: int) -> None:
        hood = world[index % len(world)]
        starts_at = hour_from_now(rng.randrange(24 * 20), days=1)
        request_id = await ask(api, hood.neighbour, starts_at, key=f"{run}-{index}")
        posted[request_id] = hood.place.partition

    for index in range(options.requests):
        # Open loop: each request leaves at its time, whether or not earlier ones answered.
        delay = started + index / options.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if killed is None and index >= kill_after:
            partitions = assigned_partitions(victim)
            killed = _Kill(victim.name, partitions, clock.wall_now())
            await victim.kill()
            log.info("matcher_kill: killed", victim=victim.name, partitions=partitions)
        tasks.append(asyncio.create_task(post(index)))
    await asyncio.gather(*tasks)
    assert killed is not None
    return posted, killed


def assigned_partitions(worker: ServiceProcess) -> list[int]:
    """The neighbourhood partitions ``worker`` last said it was given (from its log)."""
    for line in reversed(worker.log_lines()):
        if '"partitions assigned"' in line:
            partitions: list[int] = json.loads(line)["partitions"]
            return partitions
    return []


async def _check(kith: Platform, posted: dict[str, int], killed: _Kill) -> ScenarioResult:
    async def look() -> tuple[dict[str, list[OfferMade | RequestUnmatched]], set[str]]:
        offered = await decisions(kith.bootstrap)
        lost = {r for r in posted if not any(isinstance(o, OfferMade) for o in offered.get(r, []))}
        return offered, lost

    # Longer than two of a worker's looks at its partitions (``services.matching.progress``):
    # a partition the survivor took over that stopped moving is read again after one to two.
    wait_s = 60 + 3 * WATCH_EVERY_S
    offered, lost = await settle(look, lambda seen: not seen[1], timeout_s=wait_s)
    # Offer times as matching stamped them: the first after the kill on the victim's partitions.
    first_after: float | None = None
    for _, envelope in events_of(await read_topics(kith.bootstrap, [OFFERS.name])):
        data = envelope.data
        if (
            isinstance(data, OfferMade)
            and str(data.request_id) in posted
            and partition_of(data.neighbourhood) in killed.partitions
            and envelope.occurred_at > killed.at
        ):
            seconds = (envelope.occurred_at - killed.at).total_seconds()
            first_after = seconds if first_after is None else min(first_after, seconds)
    duplicates = _decided_twice(offered, posted)
    async with read_only(kith.settings().database_for("booking")) as db:
        seen_twice = await db.fetchval(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM offers"
            " WHERE request_id = ANY($1::uuid[]) GROUP BY request_id, helper_id) AS per_pair",
            list(posted),
        )
    duplicates["helper_sees_a_request_twice"] = int(seen_twice)
    escalated = sum(
        1 for r in posted if any(isinstance(o, RequestUnmatched) for o in offered.get(r, []))
    )
    return ScenarioResult(
        checked=len(posted),
        lost=len(lost),
        duplicate_effects=sum(duplicates.values()),
        recovery_s=first_after if first_after is not None else float("nan"),
        details={
            "victim": killed.victim,
            "victim_partitions": killed.partitions,
            "rebalance_s": None if first_after is None else round(first_after, 2),
            "escalated": escalated,
            "lost_by_partition": dict(Counter(posted[r] for r in lost)),
            "lost_sample": sorted(lost)[:3],
            "duplicates": duplicates,
        },
    )


def _decided_twice(
    offered: dict[str, list[OfferMade | RequestUnmatched]], posted: dict[str, int]
) -> dict[str, int]:
    later_round = wide_round = 0
    for request_id in posted:
        offers = [o for o in offered.get(request_id, []) if isinstance(o, OfferMade)]
        later_round += len({o.offer_id for o in offers if o.round > 1})
        first_round = {o.helper_id for o in offers if o.round == 1}
        wide_round += max(0, len(first_round) - _WIDTH)
    return {"offer_in_a_later_round": later_round, "round_wider_than_the_cascade": wide_round}
