"""``booking_kill`` and ``trust_kill``: SIGKILL a process again and again under a steady flow.

``booking_kill`` runs two booking processes on one port (as ``kith up --replicas booking=2``
does: the kernel spreads connections between them) and kills one or the other at random
moments (seeded) while helpers accept, check in, check out and answer, and an operator vets
applicants; each victim is started again at once. Clients retry what failed with the same
``Idempotency-Key``, and their retry reaches whichever process is alive.

``trust_kill`` runs one booking process and kills trust the same way, while the flow also
raises concerns about some people and reinstates half of them.

Both then compare every acknowledged write with booking's database, the topics and trust's
state (``flow_checks``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from kith.client import until
from kith.faults.flow import FLOW_ENV, Flow, FlowSize, at_writes, run_flow, seed
from kith.faults.flow_checks import check_flow
from kith.faults.groups import service_groups
from kith.faults.platform import Platform, platform
from kith.faults.processes import ServiceProcess
from kith.faults.reading import ends_now, group_reached, read_only, settle, wait_caught_up
from kith.faults.result import ScenarioResult
from kith.faults.world import Api
from shared.contracts.topics import PARTNERS_INBOX, Topic

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FlowKillOptions:
    """How much flows, how often the victim dies, and the RNG's seed."""

    visits: int = 300
    kills: int = 5
    seed: int = 7
    helpers: int = 8


@dataclass
class Kill:
    """One kill: which process, after how many writes, and how it came back.

    ``ready_s``: from the new process's start until it was ready (for booking: answering
    HTTP). ``recovery_s``: from its start until what was committed before the kill was
    published (booking) or consumed (trust).
    """

    process: str
    at_writes: int
    ready_s: float = 0.0
    recovery_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The kill as JSON-ready data."""
        return {
            "process": self.process,
            "at_writes": self.at_writes,
            "ready_s": round(self.ready_s, 2),
            "recovery_s": round(self.recovery_s, 2),
        }


async def run_booking_kill(folder: Path, options: FlowKillOptions) -> ScenarioResult:
    """Kill one of two booking processes ``options.kills`` times under the flow."""
    async with platform(folder, env=FLOW_ENV) as kith:
        first = kith.add("booking", http=True)
        second = kith.add("booking", name="booking-2", env={"KITH_HTTP_PORT": str(first.http_port)})
        trust = kith.add("trust")
        await kith.start_all(first, second, trust)
        size = FlowSize(visits=options.visits, helpers=options.helpers)
        return await _flow_with_kills(kith, first, [first, second], size, options)


async def run_trust_kill(folder: Path, options: FlowKillOptions) -> ScenarioResult:
    """Kill trust ``options.kills`` times under the flow, concerns included."""
    async with platform(folder, env=FLOW_ENV) as kith:
        booking = kith.add("booking", http=True)
        trust = kith.add("trust")
        await kith.start_all(booking, trust)
        size = FlowSize(visits=options.visits, helpers=options.helpers, concerns=8)
        return await _flow_with_kills(kith, booking, [trust], size, options)


async def _flow_with_kills(
    kith: Platform,
    booking: ServiceProcess,
    victims: list[ServiceProcess],
    size: FlowSize,
    options: FlowKillOptions,
) -> ScenarioResult:
    api = Api(booking.api, concurrency=options.helpers + 4)
    try:
        flow = await seed(api, kith, size)
        log.info("flow seeded", visits=len(flow.visits), writes=flow.planned_writes)
        kills = await flow_while_killing(api, kith, flow, victims, options.kills, options.seed)
    finally:
        await api.close()
    await settle_flow(kith)
    result = await settle(lambda: check_flow(kith, flow), lambda seen: seen.lost == 0, 90)
    return ScenarioResult(
        result.checked,
        result.lost,
        result.duplicate_effects,
        max((k.recovery_s for k in kills), default=0.0),
        {**result.details, "kills": [k.as_json() for k in kills], "http_retries": api.retries},
    )


async def flow_while_killing(
    api: Api,
    kith: Platform,
    flow: Flow,
    victims: list[ServiceProcess],
    kills: int,
    seed: int,
    *,
    at_random: bool = False,
    beside: Awaitable[None] | None = None,
) -> list[Kill]:
    """Run the flow (and ``beside`` it, another load); meanwhile kill a victim at ``kills``
    random moments: each victim in turn, or in a random order (``at_random``), every victim
    once before any twice. While a victim comes back the flow goes on up to the next kill's
    point and waits there (``kith.faults.gate``), so every kill lands under the flow."""
    rng = random.Random(seed)
    total = flow.planned_writes
    low, high = max(1, total // 10), max(2, total * 9 // 10)
    thresholds = sorted(rng.sample(range(low, high), min(kills, high - low)))
    # At random, but every process once before any twice: ten draws among six processes
    # left half of them never killed at seed 7.
    picks: list[ServiceProcess] = []
    while len(picks) < len(thresholds):
        picks += rng.sample(victims, len(victims))
    finished = asyncio.Event()
    # Writes the flow makes again after a hold before the next kill: every helper moving.
    moving = len({visit.helper.person_id for visit in flow.visits})

    async def killer() -> list[Kill]:
        done: list[Kill] = []
        resumed_at = 0
        for index, threshold in enumerate(thresholds):
            if not await at_writes(flow, max(threshold, resumed_at + moving), finished):
                break
            # A few milliseconds more, so the kill lands anywhere in a write or a relay batch.
            await asyncio.sleep(rng.uniform(0, 0.05))
            victim = picks[index] if at_random else victims[index % len(victims)]
            kill = Kill(victim.name, flow.writes)
            # The flow goes on while the victim comes back, up to the next kill's point.
            later = thresholds[index + 1 :]
            flow.gate.hold_at(later[0] if later else None)
            try:
                await kill_and_restart(kith, victim, kill)
            finally:
                flow.gate.hold_at(None)
            resumed_at = flow.writes
            done.append(kill)
        return done

    killing = asyncio.create_task(killer())
    try:
        await asyncio.gather(run_flow(api, kith, flow), *([beside] if beside else []))
    finally:
        finished.set()
        flow.progress.set()
    return await killing


def _recovers_by() -> dict[str, tuple[str, tuple[Topic, ...]]]:
    """Per service, the consumer group whose progress says it has recovered, and what it
    reads (the partners gateway: its inbox)."""
    from services.partners.entrypoints.consumers import INBOX_GROUP

    groups = service_groups()
    return {
        "trust": (groups["trust"].group_id, groups["trust"].topics),
        "matching": (groups["matching"].group_id, groups["matching"].topics),
        "partners": (INBOX_GROUP, (PARTNERS_INBOX,)),
    }


async def kill_and_restart(kith: Platform, victim: ServiceProcess, kill: Kill) -> None:
    """SIGKILL ``victim``, start it again at once, and time how it comes back: until it is
    ready, its outbox has published what was committed before the kill, and its consumer
    group has read what was on its streams then."""
    committed: int | None = None
    if victim.service in ("booking", "trust"):
        database = kith.settings().database_for(victim.service)
        async with read_only(database) as db:
            committed = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))
    group, reads = _recovers_by().get(victim.service, ("", ()))
    marks = await ends_now(kith.bootstrap, reads) if group else None
    await victim.kill()
    await victim.restart()
    kill.ready_s = await victim.wait_ready()
    if committed is not None:
        await _until_published(kith, victim.service, up_to=committed)
    if marks is not None:
        await until(
            lambda: group_reached(kith.bootstrap, group, marks),
            120,
            f"{victim.name} to consume what was there when it was killed",
            every_s=0.1,
        )
    kill.recovery_s = time.monotonic() - victim.started_at
    log.info("restarted", **kill.as_json())


async def _until_published(kith: Platform, service: str, *, up_to: int | None = None) -> None:
    database = kith.settings().database_for(service)

    async def published() -> bool:
        async with read_only(database) as db:
            left = await db.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
                " AND ($1::bigint IS NULL OR id <= $1)",
                up_to,
            )
        return bool(left == 0)

    await until(published, 120, f"{service}'s outbox to be published", every_s=0.1)


async def settle_flow(kith: Platform) -> None:
    """Wait until booking's and trust's outboxes are published and trust read everything."""
    await _until_published(kith, "booking")
    trust = service_groups()["trust"]
    await wait_caught_up(kith.bootstrap, trust.group_id, trust.topics)
    await _until_published(kith, "trust")
