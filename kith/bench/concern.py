"""``kith bench concern``: how soon a safeguarding concern stops a helper being offered work.

Runs ``kith up`` (booking, matching and trust as real processes) against the bench stack.
For each concern: a neighbour has an open request offered to two vetted helpers around
them; an operator raises a concern about one helper; the clock runs from the API's 201 to
matching having applied trust's ``StandingChanged(suspended=True)``: matching counts each
standing change it reads on its metrics (``kith_events_consumed_total``) in the same turn of
its loop as it applies it, and the bench reads that count every 5 ms. It also times the
moment matching commits past the event (``committed_*``), which it does once a second. The
neighbour's next request must then go to the other helper only: any offer to the suspended
helper is counted in ``offers_after_suspension``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import typer

from kith import seeding
from kith.bench import app
from kith.bench.stack import bench_stack
from kith.client import bearer, percentile, send, until
from kith.demo import MATCHING_CATCH_UP_S, matching_knows_people
from kith.running import running_kith
from shared import clock
from shared.messaging import Kafka, KafkaConnection
from shared.settings import Settings

T = TypeVar("T")

_SERVICES = ("booking", "matching", "trust")
_STEPS = ("identity", "references", "interview", "background_check")
_EVERY_DAY = [
    {"weekday": day, "start": "08:00", "end": "20:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    concerns: int
    latencies_ms: list[float]
    committed_ms: list[float]
    offers_after_suspension: int

    def summary(self) -> dict[str, Any]:
        ordered, committed = sorted(self.latencies_ms), sorted(self.committed_ms)
        return {
            "benchmark": "concern",
            "concerns": self.concerns,
            "p50_ms": round(percentile(ordered, 50), 1),
            "p99_ms": round(percentile(ordered, 99), 1),
            "max_ms": round(ordered[-1], 1) if ordered else 0.0,
            "committed_p50_ms": round(percentile(committed, 50), 1),
            "committed_p99_ms": round(percentile(committed, 99), 1),
            "offers_after_suspension": self.offers_after_suspension,
        }


@app.command("concern")
def concern(
    concerns: int = typer.Option(20, min=1, max=500, help="Concerns to raise, one at a time."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Time from a concern's 201 to matching applying the suspension (p50, p99)."""
    with bench_stack(Settings()) as settings:
        figures = asyncio.run(run_bench(settings, concerns=concerns))
    summary = figures.summary()
    if json_out:
        typer.echo(json.dumps(summary))
        return
    typer.echo(
        f"{summary['concerns']} concerns: matching applied the suspension in "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms (max {summary['max_ms']} ms), "
        f"and committed past it in p50 {summary['committed_p50_ms']} ms, "
        f"p99 {summary['committed_p99_ms']} ms; "
        f"offers to a suspended helper afterwards: {summary['offers_after_suspension']}"
    )


async def run_bench(settings: Settings, *, concerns: int, timeout_s: float = 30) -> Figures:
    """Start Kith against ``settings``' broker and database, and measure ``concerns`` times."""
    import httpx

    with tempfile.TemporaryDirectory(prefix="kith-bench-concern-") as scratch:
        async with running_kith(
            bootstrap=settings.require_bootstrap(),
            database_url=settings.database_url or "",
            state_dir=Path(scratch),
        ) as kith:
            api, token = kith.api, kith.operator_token
            operator = {"Authorization": f"Bearer {token}"}
            watcher = _StandingWatcher(settings, kith.metrics_urls()["matching"])
            await watcher.start()
            try:
                async with httpx.AsyncClient(base_url=api, timeout=10) as http:
                    corner = (random.uniform(50.5, 51.5), random.uniform(-3.5, -2.5))
                    streets = [
                        await _street(http, operator, _grid(corner, index))
                        for index in range(concerns)
                    ]
                    for street in streets:
                        await until(
                            partial(_approved, http, operator, street), timeout_s, "vetting"
                        )
                    # Matching learns of people on other streams than booking: let it catch up
                    # before the first request, or it would find nobody to offer it to.
                    await until(
                        partial(matching_knows_people, settings),
                        max(timeout_s, MATCHING_CATCH_UP_S),
                        "matching to learn of the helpers",
                    )
                    latencies: list[float] = []
                    committed: list[float] = []
                    after = 0
                    for street in streets:
                        applied_ms, committed_ms, offered = await _one_concern(
                            http, operator, watcher, street, timeout_s
                        )
                        latencies.append(applied_ms)
                        committed.append(committed_ms)
                        after += offered
            finally:
                await watcher.stop()
    return Figures(concerns, latencies, committed, after)


@dataclass(frozen=True)
class _Street:
    neighbour: dict[str, str]
    target: dict[str, str]
    other: dict[str, str]


async def _one_concern(
    http: Any,
    operator: dict[str, str],
    watcher: _StandingWatcher,
    street: _Street,
    timeout_s: float,
) -> tuple[float, float, int]:
    """The suspension's time to matching applying it and to its commit, in ms, and 1 if the
    suspended helper was offered the neighbour's next request."""
    # An open request around the helper, offered to them: they are live in matching.
    first = await _ask(http, street.neighbour, day=1)
    await until(
        lambda: _offered(http, [street.target], first), timeout_s, "the first request offered"
    )
    # Once matching has committed every earlier standing change (the helpers' vetting, the
    # last suspension), the next one it counts is this concern's.
    await until(watcher.matching_caught_up, timeout_s, "matching to catch up on standing")
    applied_before = await watcher.standing_applied()
    body = {"about_id": street.target["person_id"], "summary": "Benchmark concern."}
    response = await http.post("/v1/operator/concerns", headers=operator, json=body)
    # The clock starts at the 201: from then on the concern is the platform's to act on.
    accepted = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"raising a concern answered {response.status_code}: {response.text}")

    async def applied() -> bool:
        return await watcher.standing_applied() > applied_before

    await until(applied, timeout_s, "matching to apply the suspension", every_s=0.005)
    applied_ms = (time.perf_counter() - accepted) * 1000
    position = await until(
        lambda: watcher.suspension_of(street.target["person_id"]), timeout_s, "the suspension"
    )
    await until(lambda: watcher.matching_past(position), timeout_s, "matching to commit it")
    committed_ms = (time.perf_counter() - accepted) * 1000
    second = await _ask(http, street.neighbour, day=8)
    await until(lambda: _offered(http, [street.other], second), timeout_s, "the next offer")
    # Both helpers are in one round when both are eligible (cascade width 3).
    offered = await _offered(http, [street.target], second)
    return applied_ms, committed_ms, 1 if offered else 0


class _StandingWatcher:
    """Reads the standing stream from now on, matching's committed offsets on it, and how
    many standing changes matching has applied (its metrics at ``metrics_url``)."""

    def __init__(self, kafka: Kafka, metrics_url: str) -> None:
        import httpx
        from aiokafka import AIOKafkaConsumer

        from shared.contracts.topics import STANDING

        connection = KafkaConnection.of(kafka)

        self._topic = STANDING
        self._reader = AIOKafkaConsumer(
            **connection.aiokafka(), group_id=None, fetch_max_wait_ms=10
        )
        # Inspects matching's group without joining it.
        self._offsets = AIOKafkaConsumer(
            **connection.aiokafka(), group_id="kith-matching", enable_auto_commit=False
        )
        self._suspended: dict[str, tuple[int, int]] = {}
        self._last: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._metrics_url = metrics_url
        self._http = httpx.AsyncClient(timeout=5)

    async def start(self) -> None:
        from aiokafka import TopicPartition

        await self._reader.start()
        await self._offsets.start()
        partitions = [TopicPartition(self._topic.name, p) for p in range(self._topic.partitions)]
        self._reader.assign(partitions)
        await self._reader.seek_to_end(*partitions)
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._reader.stop()
        await self._offsets.stop()
        await self._http.aclose()

    async def _read(self) -> None:
        from shared.contracts import UndecodableEvent, decode
        from shared.contracts.trust import StandingChanged

        while True:
            batch = await self._reader.getmany(timeout_ms=100)
            for records in batch.values():
                for record in records:
                    self._last[record.partition] = record.offset
                    try:
                        data = decode(record.value).data
                    except UndecodableEvent:
                        continue
                    if isinstance(data, StandingChanged) and data.suspended:
                        self._suspended[str(data.person_id)] = (record.partition, record.offset)

    async def suspension_of(self, person_id: str) -> tuple[int, int] | None:
        """Where trust's suspension of ``person_id`` sits on the stream, once published."""
        return self._suspended.get(person_id)

    async def standing_applied(self) -> float:
        """How many standing changes matching has read and applied, by its metrics."""
        from prometheus_client.parser import text_string_to_metric_families

        from shared.contracts.topics import STANDING
        from shared.contracts.trust import StandingChanged

        text = (await self._http.get(self._metrics_url)).text
        wanted = {"service": "matching", "topic": STANDING.name, "type": StandingChanged.TYPE}
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "kith_events_consumed_total" and sample.labels == wanted
        )

    async def matching_caught_up(self) -> bool:
        """Whether matching has committed past every standing change read so far."""
        for position in list(self._last.items()):
            if not await self.matching_past(position):
                return False
        return True

    async def matching_past(self, position: tuple[int, int]) -> bool:
        """Whether matching has committed past the event at ``position``."""
        from aiokafka import TopicPartition

        partition, offset = position
        committed = await self._offsets.committed(TopicPartition(self._topic.name, partition))
        return committed is not None and committed > offset


def _grid(corner: tuple[float, float], index: int) -> tuple[float, float]:
    """Street ``index``'s centre: streets are 0.1 degrees (over 6 km) apart, so no helper
    of one street is within reach (3 km) of another street's neighbour."""
    return corner[0] + 0.1 * (index // 25), corner[1] + 0.1 * (index % 25)


async def _street(http: Any, operator: dict[str, str], centre: tuple[float, float]) -> _Street:
    # In one street cell: both helpers are as near the neighbour as each other, so one round
    # offers the request to both.
    homes = iter(seeding.homes_in_one_cell(centre, 3))
    run = uuid.uuid4().hex[:8]
    api = seeding.Api.over(http)
    token = operator["Authorization"].removeprefix("Bearer ")

    async def sign_up(name: str, skills: list[str]) -> dict[str, str]:
        person, _ = await seeding.sign_up(
            api,
            next(homes),
            skills=skills,
            label=f"{name.lower()}-{run}",
            display_name=f"{name} {run}",
            address="1 Bench Street",
            radius_km=3,
            weekly_hour_cap=10,
            time_zone="Europe/London",
            password="bench-password",
            domain="bench.kith.example",
        )
        return {"person_id": person.person_id, "token": person.token}

    helpers = [await sign_up(name, ["shopping"]) for name in ("Target", "Other")]
    for helper in helpers:
        await seeding.set_hours(api, helper["token"], _EVERY_DAY)
        await seeding.vet(api, token, seeding.Person(helper["person_id"], helper["token"]), _STEPS)
    return _Street(await sign_up("Neighbour", []), helpers[0], helpers[1])


async def _approved(http: Any, operator: dict[str, str], street: _Street) -> bool:
    for helper in (street.target, street.other):
        person = await send(
            http, "GET", f"/v1/operator/people/{helper['person_id']}", operator, None
        )
        if "shopping" not in ((person.get("standing") or {}).get("approved_skills") or {}):
            return False
    return True


async def _ask(http: Any, neighbour: dict[str, str], *, day: int) -> str:
    from datetime import timedelta

    start = (clock.now() + timedelta(days=day)).replace(hour=11, minute=0, second=0, microsecond=0)
    body = {"skill": "shopping", "starts_at": start.isoformat(), "hours": 1}
    created = await send(http, "POST", "/v1/requests", bearer(neighbour["token"]), body)
    return str(created["occurrences"][0]["request_id"])


async def _offered(http: Any, helpers: list[dict[str, str]], request_id: str) -> bool:
    for helper in helpers:
        inbox = await send(http, "GET", "/v1/offers", bearer(helper["token"]), None)
        if any(offer["request_id"] == request_id for offer in inbox["items"]):
            return True
    return False
