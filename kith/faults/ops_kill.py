"""``ops_kill``: SIGKILL the operators' console while the neighbourhood goes on.

Neighbours post requests at a steady rate, matching offers them, and an operator follows
the console's live stream (``/ops/events``) as the console page does. At a random moment the
console is killed and started again at once; the operator's stream reconnects with the last
id it saw, as a browser's ``EventSource`` does.

What "lost" means: an event on the streams the console reads that the operator's stream
never showed (before or after the kill). A "duplicate effect": the restarted console's
figures differ from those of a console that never died (one started at the end, reading the
same streams), or one event shown twice on the stream in one connection.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog

from kith.client import until
from kith.faults.platform import Platform, platform
from kith.faults.processes import ServiceProcess
from kith.faults.reading import events_of, read_topics
from kith.faults.result import ScenarioResult
from kith.faults.world import Api, ask, hour_from_now, places, sign_up, vetted_helpers
from shared.contracts.topics import OFFERS, REQUESTS
from shared.embedded import free_port

log = structlog.get_logger(__name__)

#: The figures that follow from the streams alone (the rest are rates over the last hour).
_STABLE_FIGURES = (
    "matched",
    "unmatched",
    "waiting",
    "escalated",
    "open_concerns",
    "recurring_visits",
    "with_regular",
)
#: The streams the operator watches in this scenario, and that are compared with the topics.
_WATCHED = (REQUESTS, OFFERS)


@dataclass(frozen=True)
class OpsKillOptions:
    """Requests posted, their rate, and the RNG's seed (which picks the moment of the kill)."""

    requests: int = 200
    rate: float = 10.0
    seed: int = 7


@dataclass
class _Watcher:
    """What the operator's stream showed: event ids by connection, and reconnections."""

    seen: list[set[str]] = field(default_factory=lambda: [set()])
    repeated: int = 0
    reconnects: int = 0
    last_id: str | None = None


async def run_ops_kill(folder: Path, options: OpsKillOptions) -> ScenarioResult:
    """Kill the console once mid-flow; compare what its stream showed and its figures."""
    async with platform(folder) as kith:
        booking = kith.add("booking", http=True)
        trust, matching = kith.add("trust"), kith.add("matching")
        ops = _console(kith, "ops")
        await kith.start_all(booking, trust, matching, ops)
        api = Api(booking.api)
        watcher = _Watcher()
        stop_watching = asyncio.Event()
        async with httpx.AsyncClient(timeout=None) as http:
            watching = asyncio.create_task(_watch(http, kith, ops, watcher, stop_watching))
            try:
                posted, recovery_s = await _flow_with_a_kill(api, kith, ops, options)
                await _until_shown(kith, watcher, posted)
            finally:
                stop_watching.set()
                watching.cancel()
                await asyncio.gather(watching, return_exceptions=True)
                await api.close()
            restarted = await _figures(http, kith, ops)
            witness = _console(kith, "ops-witness")
            await kith.start_all(witness)
            never_died = await _figures(http, kith, witness)
        on_topics = await _event_ids(kith)
        shown = set().union(*watcher.seen)
        missing = on_topics - shown
        differing = {
            name: {"restarted": restarted.get(name), "never_died": never_died.get(name)}
            for name in (*_STABLE_FIGURES, "events_seen")
            if restarted.get(name) != never_died.get(name)
        }
        return ScenarioResult(
            checked=len(on_topics),
            lost=len(missing),
            duplicate_effects=len(differing) + watcher.repeated,
            recovery_s=recovery_s,
            details={
                "requests_posted": posted,
                "events_on_topics": len(on_topics),
                "events_shown": len(shown),
                "missing": sorted(missing)[:5],
                "reconnects": watcher.reconnects,
                "shown_twice_in_one_connection": watcher.repeated,
                "figures_differing": differing,
                "figures": {name: restarted.get(name) for name in _STABLE_FIGURES},
            },
        )


def _console(kith: Platform, name: str) -> ServiceProcess:
    port = free_port()
    process = kith.add("ops", name=name, env={"KITH_OPS_PORT": str(port)})
    process.http_port = port
    return process


async def _flow_with_a_kill(
    api: Api, kith: Platform, ops: ServiceProcess, options: OpsKillOptions
) -> tuple[int, float]:
    """Post ``options.requests`` requests at ``options.rate``; kill the console once."""
    run = uuid.uuid4().hex[:8]
    place = places(1)[0]
    await vetted_helpers(api, kith.operator_token, place, 4, label=f"ops-{run}")
    neighbour = await sign_up(api, place, skills=[], label=f"ops-{run}-neighbour")
    rng = random.Random(options.seed)
    kill_at = rng.randrange(options.requests // 4, options.requests * 3 // 4)
    recovery_s = 0.0
    started = time.monotonic()
    for index in range(options.requests):
        # Open loop: each request at its own moment, whatever the ones before cost.
        await asyncio.sleep(max(0.0, started + index / options.rate - time.monotonic()))
        await ask(
            api, neighbour, hour_from_now(index % 24, days=2 + index // 24), key=f"{run}-{index}"
        )
        if index == kill_at:
            await ops.kill()
            killed = time.monotonic()
            ops.start()
            await ops.wait_ready()
            recovery_s = time.monotonic() - killed
    return options.requests, recovery_s


async def _watch(
    http: httpx.AsyncClient,
    kith: Platform,
    ops: ServiceProcess,
    watcher: _Watcher,
    stop: asyncio.Event,
) -> None:
    """Follow ``/ops/events`` as the console page does, reconnecting with the last id."""
    streams = ",".join(topic.name for topic in _WATCHED)
    while not stop.is_set():
        headers = {"Authorization": f"Bearer {kith.operator_token}"}
        if watcher.last_id is not None:
            headers["Last-Event-ID"] = watcher.last_id
        try:
            async with http.stream(
                "GET", f"{ops.api}/ops/events", params={"stream": streams}, headers=headers
            ) as response:
                async for line in response.aiter_lines():
                    _read_line(line, watcher)
        except (httpx.HTTPError, OSError):
            pass
        # The console is down or restarting: try again shortly, as EventSource does.
        watcher.reconnects += 1
        watcher.seen.append(set())
        await asyncio.sleep(0.1)


def _read_line(line: str, watcher: _Watcher) -> None:
    if line.startswith("id:"):
        watcher.last_id = line[3:].strip()
    elif line.startswith("data:"):
        view: dict[str, Any] = json.loads(line[5:])
        event_id = str(view.get("event_id") or "")
        if not event_id:
            return
        if event_id in watcher.seen[-1]:
            watcher.repeated += 1
        watcher.seen[-1].add(event_id)


async def _event_ids(kith: Platform) -> set[str]:
    records = await read_topics(kith.bootstrap, [topic.name for topic in _WATCHED])
    return {str(envelope.event_id) for _, envelope in events_of(records)}


async def _until_shown(kith: Platform, watcher: _Watcher, posted: int) -> None:
    async def all_shown() -> bool:
        expected = await _event_ids(kith)
        return len(expected) >= posted and expected <= set().union(*watcher.seen)

    try:
        await until(all_shown, 60, "the operator's stream to show every event", every_s=0.5)
    except Exception as error:  # the checker reports what is missing
        log.warning("ops_kill: not every event was shown", error=repr(error))


async def _figures(http: httpx.AsyncClient, kith: Platform, ops: ServiceProcess) -> dict[str, Any]:
    """The console's figures once it has read the streams' history and stopped moving."""
    headers = {"Authorization": f"Bearer {kith.operator_token}"}
    readings: Counter[str] = Counter()

    async def settled() -> dict[str, Any] | None:
        figures: dict[str, Any] = (await http.get(f"{ops.api}/ops/figures", headers=headers)).json()
        if not figures.get("caught_up"):
            return None
        key = json.dumps({name: figures.get(name) for name in (*_STABLE_FIGURES, "events_seen")})
        readings[key] += 1
        return figures if readings[key] >= 3 else None

    found: dict[str, Any] = await until(settled, 60, "the console's figures to settle", every_s=0.3)
    return found
