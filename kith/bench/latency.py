"""``kith bench latency``: from a request posted to its offer visible through the API.

The whole platform runs (``kith up`` on the bench stack). Vetted helpers offering every hour
live in a few neighbourhoods, each with one neighbour, who follows their notices
(``GET /v1/me/events``, as the mobile and web clients do). Requests leave on an open-loop
schedule (send times fixed in advance, never waiting for earlier answers). Latency runs from
a request's scheduled send time to its neighbour hearing that it was offered, which booking
says once the offer's row has committed (so ``GET /v1/requests`` shows it from then on):
HTTP, outbox, relay, broker, matching, broker, booking's consumer, database, HTTP. The
database's own view (offer received minus request created) is printed alongside, split into
stages. In the same run it measures the two-hop floor on the same broker
(``kith.bench.floor``) and prints the ratios of Kith's p50 and p99 to it. A run of two
minutes or more compares the median of its first minute with that of its last, for Kith and
for the floor, which runs as long: how much of a slow decline is the broker's own. With
``--floor-only`` it runs the floor alone: on the embedded broker, one nothing else has used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from kith.bench import app
from kith.bench.floor import two_hop_floor
from kith.bench.stack import bench_stack
from shared.settings import Settings

if TYPE_CHECKING:
    import aiohttp

#: A request with no offer after this long counts as an error.
GIVE_UP_S = 30.0
#: ``max_rate`` is the highest steady rate whose p99 stays under this.
MAX_RATE_P99_MS = 500.0
#: Each step of the search for ``max_rate`` sends this much faster than the one before.
RATE_STEP = 1.25
#: The fastest rate the search tries.
RATE_CEILING = 1000.0
#: A run at least this long also compares its first minute with its last.
MINUTES_FROM_S = 120.0

#: A request's send time (seconds after the first) and its latency (seconds).
Sample = tuple[float, float]
T = TypeVar("T")


@app.command("latency")
def latency(
    rate: float = typer.Option(100.0, min=1, max=1000, help="Requests per second."),
    duration: float = typer.Option(60.0, min=1, max=3600, help="Seconds of sending."),
    neighbourhoods: int = typer.Option(
        4, min=1, max=32, help="Neighbourhoods (one neighbour each)."
    ),
    helpers: int = typer.Option(3, min=1, max=20, help="Vetted helpers per neighbourhood."),
    max_rate: bool = typer.Option(
        False,
        "--max-rate",
        help="Then find the highest steady rate whose p99 stays under 500 ms.",
    ),
    step_s: float = typer.Option(20.0, min=5, help="Seconds each step of --max-rate sends."),
    floor_only: bool = typer.Option(
        False,
        "--floor-only",
        help="Run only the two-hop floor (on a fresh embedded broker unless one is named).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Post requests at a steady rate; print p50, p99 and max until each offer is visible."""
    if floor_only:
        if max_rate:
            raise typer.BadParameter("--max-rate needs Kith running; --floor-only runs no Kith")
        with bench_stack(Settings()) as settings:
            floor = asyncio.run(floor_alone(settings, rate=rate, duration=duration))
        typer.echo(json.dumps(floor) if json_out else _floor_line(floor))
        return
    with bench_stack(Settings()) as settings:
        figures = asyncio.run(
            _run(
                settings,
                rate=rate,
                duration=duration,
                places=neighbourhoods,
                helpers=helpers,
                search_step_s=step_s if max_rate else None,
            )
        )
    if json_out:
        typer.echo(json.dumps(figures))
        return
    _echo(figures, rate, duration)


def _echo(figures: dict[str, Any], rate: float, duration: float) -> None:
    typer.echo(
        f"latency: {figures['requests']} requests at {rate:g}/s for {duration:g} s\n"
        f"  request posted -> offer visible (API)  p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms\n"
        f"  POST /v1/requests answered             p50 {figures['post_p50_ms']} ms\n"
        f"  request row -> offer row (database)    p50 {figures['db_p50_ms']} ms, "
        f"p99 {figures['db_p99_ms']} ms\n"
        f"    of which (p50): {_stage_line(figures['stages_p50_ms'])}\n"
        f"  two-hop floor (same broker, same run)  p50 {figures['floor_p50_ms']} ms, "
        f"p99 {figures['floor_p99_ms']} ms: p50 {figures['p50_vs_floor']}x, "
        f"p99 {figures['p99_vs_floor']}x the floor (targets: 3x, 4x)\n"
        f"  errors {figures['errors']}\n"
        f"  fetch_max_wait_ms {figures['fetch_max_wait_ms']}, outbox relay woken by NOTIFY "
        f"(poll {figures['outbox_poll_s']} s), offers heard on GET /v1/me/events\n"
        f"  memory at the end (MB): {figures['memory_mb']}"
    )
    if "p50_first_minute_ms" in figures:
        typer.echo(
            f"  p50 first minute {figures['p50_first_minute_ms']} ms, last minute "
            f"{figures['p50_last_minute_ms']} ms: {figures['last_vs_first']}x (target <= 1.25)\n"
            f"  the floor alone on the same broker: p50 first minute "
            f"{figures['floor_p50_first_minute_ms']} ms, last minute "
            f"{figures['floor_p50_last_minute_ms']} ms: {figures['floor_last_vs_first']}x"
        )
    if "stages_first_minute_p50_ms" in figures:
        typer.echo(
            f"    first minute (p50): {_stage_line(figures['stages_first_minute_p50_ms'])}\n"
            f"    last minute (p50): {_stage_line(figures['stages_last_minute_p50_ms'])}"
        )
    if "cpu_first_minute" in figures:
        typer.echo(
            f"  share of a core, first minute: {figures['cpu_first_minute']}\n"
            f"  share of a core, last minute: {figures['cpu_last_minute']}"
        )
    if "max_rate" in figures:
        steps = ", ".join(f"{s['rate']}/s p99 {s['p99_ms']} ms" for s in figures["rate_steps"])
        typer.echo(f"  max_rate {figures['max_rate']}/s (p99 < {MAX_RATE_P99_MS:g} ms): {steps}")


def _floor_line(floor: dict[str, Any]) -> str:
    line = (
        f"two-hop floor alone: {floor['requests']} messages at {floor['rate']:g}/s for "
        f"{floor['duration_s']:g} s: p50 {floor['floor_p50_ms']} ms, "
        f"p99 {floor['floor_p99_ms']} ms, lost {floor['floor_lost']}"
    )
    if "floor_last_vs_first" in floor:
        line += (
            f"\n  p50 first minute {floor['floor_p50_first_minute_ms']} ms, last minute "
            f"{floor['floor_p50_last_minute_ms']} ms: {floor['floor_last_vs_first']}x\n"
            f"  share of a core, first minute: {floor['cpu_first_minute']}\n"
            f"  share of a core, last minute: {floor['cpu_last_minute']}"
        )
    return line


async def floor_alone(settings: Settings, *, rate: float, duration: float) -> dict[str, Any]:
    """The two-hop floor with nothing of Kith's before or beside it: what the broker alone
    does over ``duration`` (with its first and last minute, from two minutes on)."""
    samples: list[Sample] = []
    # The minutes' shares of a core begin with the floor's few seconds of setting up its topics.
    at_ends = asyncio.create_task(cpu_at_the_ends(duration))
    floor = await two_hop_floor(settings, rate=rate, duration=duration, samples=samples)
    cpu = await at_ends
    minutes = minute_p50s(samples, duration, prefix="floor_")
    return {
        "benchmark": "latency_floor",
        "rate": rate,
        "duration_s": duration,
        "requests": int(rate * duration),
        **floor,
        **minutes,
        **cpu,
    }


@dataclass
class _Neighbour:
    token: str
    #: Set once their notice stream is open.
    listening: asyncio.Event = field(default_factory=asyncio.Event)


async def _run(
    settings: Settings,
    *,
    rate: float,
    duration: float,
    places: int,
    helpers: int,
    search_step_s: float | None = None,
) -> dict[str, Any]:
    import aiohttp

    from kith.bench.idle import memory_by_process
    from kith.running import running_kith
    from shared.messaging import ensure_topics

    await ensure_topics(settings)
    with tempfile.TemporaryDirectory(prefix="kith-bench-latency-") as state:
        async with running_kith(
            bootstrap=settings.require_bootstrap(),
            database_url=settings.database_url or "",
            state_dir=Path(state),
            services=("booking", "matching", "trust"),
        ) as kith:
            neighbours = await _seed(kith.api, kith.operator_token, settings, places, helpers)
            connector = aiohttp.TCPConnector(limit=128)
            async with aiohttp.ClientSession(kith.api, connector=connector) as http:
                at_ends = asyncio.create_task(cpu_at_the_ends(duration))
                samples, errors, ids, answered = await _measure(http, neighbours, rate, duration)
                cpu = await at_ends
                memory = memory_by_process()
                database = await _database_view(settings, ids)
                stages = await _stages(settings, ids, duration)
                search = (
                    await _max_rate(http, neighbours, rate, search_step_s)
                    if search_step_s is not None
                    else {}
                )
    # The same broker, right after, with Kith stopped: the floor of the two hops.
    floor_samples: list[Sample] = []
    floor = await two_hop_floor(settings, rate=rate, duration=duration, samples=floor_samples)
    ordered = sorted(latency for _, latency in samples)
    p50, p99 = _ms(_percentile(ordered, 50)), _ms(_percentile(ordered, 99))
    minutes = minute_p50s(samples, duration) | minute_p50s(floor_samples, duration, prefix="floor_")
    return {
        "benchmark": "latency",
        "rate": rate,
        "duration_s": duration,
        "requests": int(rate * duration),
        "p50_ms": _ms(_percentile(ordered, 50)),
        "p99_ms": _ms(_percentile(ordered, 99)),
        "max_ms": _ms(ordered[-1] if ordered else 0.0),
        "errors": errors,
        "post_p50_ms": _ms(_percentile(answered, 50)),
        "db_p50_ms": _ms(_percentile(database, 50)),
        "db_p99_ms": _ms(_percentile(database, 99)),
        **stages,
        "fetch_max_wait_ms": settings.fetch_max_wait_ms,
        "outbox_poll_s": settings.outbox_poll_s,
        **floor,
        "p50_vs_floor": round(p50 / max(floor["floor_p50_ms"], 0.1), 2),
        "p99_vs_floor": round(p99 / max(floor["floor_p99_ms"], 0.1), 2),
        "memory_mb": memory,
        **minutes,
        **cpu,
        **search,
    }


async def cpu_at_the_ends(duration: float) -> dict[str, dict[str, float]]:
    """The share of a core each process this one started (the broker, PostgreSQL, each service)
    used in the first minute of sending and in the last: where a slow decline's time goes.
    Nothing for a run shorter than ``MINUTES_FROM_S``."""
    if duration < MINUTES_FROM_S:
        return {}
    from kith.bench.idle import cpu_by_process, idle_figures

    async def minute() -> dict[str, float]:
        began, before = time.monotonic(), cpu_by_process()
        await asyncio.sleep(60)
        shares: dict[str, float] = idle_figures(before, cpu_by_process(), time.monotonic() - began)[
            "processes"
        ]
        return shares

    first = await minute()
    await asyncio.sleep(max(0.0, duration - 120))
    return {"cpu_first_minute": first, "cpu_last_minute": await minute()}


def minute_p50s(samples: list[Sample], duration: float, *, prefix: str = "") -> dict[str, float]:
    """The median latency of the requests sent in the first minute and in the last, and
    the ratio of the last to the first (a slow decline shows as a ratio above 1); each key
    begins with ``prefix`` (``floor_`` for the floor's messages). Nothing for a run shorter
    than ``MINUTES_FROM_S``, whose first and last minutes would overlap."""
    if duration < MINUTES_FROM_S:
        return {}
    first, last = first_and_last_minute(samples, duration)
    first_ms = _ms(_percentile(sorted(first), 50))
    last_ms = _ms(_percentile(sorted(last), 50))
    return {
        f"{prefix}p50_first_minute_ms": first_ms,
        f"{prefix}p50_last_minute_ms": last_ms,
        f"{prefix}last_vs_first": round(last_ms / max(first_ms, 0.1), 2),
    }


def first_and_last_minute(
    timed: Iterable[tuple[float, T]], duration: float
) -> tuple[list[T], list[T]]:
    """Of ``(seconds since sending began, value)`` pairs, the values of the first minute and
    those of the last minute of ``duration``."""
    first: list[T] = []
    last: list[T] = []
    for at, value in timed:
        if at < 60:
            first.append(value)
        if at >= duration - 60:
            last.append(value)
    return first, last


def holds(p99_ms: float, errors: int) -> bool:
    """Whether a steady rate with these figures is one Kith keeps up with."""
    return errors == 0 and p99_ms < MAX_RATE_P99_MS


async def _max_rate(
    http: aiohttp.ClientSession, neighbours: list[_Neighbour], start: float, step_s: float
) -> dict[str, Any]:
    """From ``start``, send for ``step_s`` at rates ``RATE_STEP`` apart until one does not
    hold; ``max_rate`` is the last that did (0 when ``start`` did not)."""
    held, steps, rate = 0.0, [], start
    while rate <= RATE_CEILING:
        samples, errors, _, _ = await _measure(http, neighbours, rate, step_s)
        p99 = _ms(_percentile(sorted(latency for _, latency in samples), 99))
        steps.append({"rate": round(rate, 1), "p99_ms": p99, "errors": errors})
        if not holds(p99, errors):
            break
        held, rate = rate, rate * RATE_STEP
    return {"max_rate": round(held, 1), "rate_steps": steps}


async def _seed(
    api_url: str, operator_token: str, settings: Settings, count: int, helpers: int
) -> list[_Neighbour]:
    """Vetted helpers free every hour and one neighbour in each of ``count`` neighbourhoods,
    each shown to be matched once before the measurement starts."""
    from kith.faults.neighbourhoods import matched_neighbourhoods
    from kith.faults.world import Api

    api = Api(api_url)
    try:
        hoods = await matched_neighbourhoods(api, settings, operator_token, count, helpers=helpers)
    finally:
        await api.close()
    return [_Neighbour(hood.neighbour.token) for hood in hoods]


async def _measure(
    http: aiohttp.ClientSession, neighbours: list[_Neighbour], rate: float, duration: float
) -> tuple[list[Sample], int, list[str], list[float]]:
    """Send on schedule while following each neighbour's notices; return each request's
    send time and latency (s), errors, the request ids and how long each POST took to
    answer."""
    import aiohttp

    from kith.faults.world import hour_from_now

    total = int(rate * duration)
    errors = 0
    ids: list[str] = []
    latencies: list[Sample] = []
    answered: list[float] = []
    scheduled_at: dict[str, float] = {}  # posted, not yet heard of
    heard_at: dict[str, float] = {}  # heard of before the POST's answer came back
    settled = asyncio.Event()

    def heard(request_id: str, at: float) -> None:
        scheduled = scheduled_at.pop(request_id, None)
        if scheduled is not None:
            latencies.append((scheduled - started, at - scheduled))
        elif request_id not in ids:
            heard_at.setdefault(request_id, at)
        if len(latencies) + errors >= total:
            settled.set()

    async def follow(neighbour: _Neighbour) -> None:
        headers = {"Authorization": f"Bearer {neighbour.token}"}
        forever = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with http.get("/v1/me/events", headers=headers, timeout=forever) as stream:
            stream.raise_for_status()
            async for raw in stream.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("retry:"):
                    neighbour.listening.set()
                elif line.startswith("data: "):
                    notice = json.loads(line.removeprefix("data: "))
                    heard(notice["request_id"], time.perf_counter())

    async def post(index: int, scheduled: float) -> None:
        nonlocal errors
        neighbour = neighbours[index % len(neighbours)]
        body = {
            "skill": "shopping",
            "starts_at": hour_from_now(index % (24 * 20), days=1).isoformat(),
            "hours": 1,
        }
        headers = {"Authorization": f"Bearer {neighbour.token}"}
        try:
            async with http.post("/v1/requests", json=body, headers=headers) as response:
                response.raise_for_status()
                created = await response.json()
        except Exception:
            errors += 1
            if len(latencies) + errors >= total:
                settled.set()
            return
        answered.append(time.perf_counter() - scheduled)
        request_id = str(created["occurrences"][0]["request_id"])
        ids.append(request_id)
        scheduled_at[request_id] = scheduled
        if request_id in heard_at:  # its offer was told before the answer came back
            heard(request_id, heard_at.pop(request_id))

    for neighbour in neighbours:  # heard anew by this run's own streams
        neighbour.listening.clear()
    followers = [asyncio.create_task(follow(neighbour)) for neighbour in neighbours]
    try:
        for neighbour in neighbours:
            await asyncio.wait_for(neighbour.listening.wait(), timeout=GIVE_UP_S)
        started = time.perf_counter()
        senders = []
        for index in range(total):
            scheduled = started + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            senders.append(asyncio.create_task(post(index, scheduled)))
        await asyncio.gather(*senders)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(settled.wait(), timeout=GIVE_UP_S)
    finally:
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
    errors += len(scheduled_at)  # never heard of within the wait
    return latencies, errors, ids, sorted(answered)


async def _database_view(settings: Settings, ids: list[str]) -> list[float]:
    """Seconds from each request's row to its first offer's row, as booking recorded them."""
    import asyncpg

    conn = await asyncpg.connect(settings.database_for("booking"))
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM min(o.received_at) - r.created_at) AS s"
            " FROM requests r JOIN offers o ON o.request_id = r.request_id"
            " WHERE r.request_id = ANY($1::uuid[]) GROUP BY r.request_id, r.created_at",
            ids,
        )
    finally:
        await conn.close()
    return sorted(float(row["s"]) for row in rows)


#: Where a request's time goes between the database rows, in order (see ``_stages``).
STAGES = {
    "outbox": "request row -> picked up by booking's relay",
    "matching": "relay -> offer made (broker, matching)",
    "offer_to_row": "offer made -> offer row (broker, booking's consumer)",
}


async def _stages(settings: Settings, ids: list[str], duration: float) -> dict[str, Any]:
    """Median milliseconds of each stage in ``STAGES``, from booking's rows and the offers
    topic (each offer is stamped by matching when it makes it); for a run of two minutes or
    more, also of the requests made in its first minute and in its last, to show which stage
    a slow decline is in."""
    import asyncpg

    from kith.faults.reading import events_of, read_topics
    from shared.contracts.requests import HelpRequested, OfferMade
    from shared.contracts.topics import OFFERS

    made: dict[str, float] = {}
    for _, envelope in events_of(await read_topics(settings, [OFFERS.name])):
        if isinstance(envelope.data, OfferMade):
            request_id, at = str(envelope.data.request_id), envelope.occurred_at.timestamp()
            made[request_id] = min(at, made.get(request_id, at))
    conn = await asyncpg.connect(settings.database_for("booking"))
    try:
        # The outbox keeps each event as JSON: its request id says which request it is.
        rows = await conn.fetch(
            "WITH relayed AS (SELECT published_at,"
            " (convert_from(envelope, 'UTF8')::jsonb #>> '{data,request_id}')::uuid AS request_id"
            " FROM outbox WHERE type = $2)"
            " SELECT r.request_id::text AS id, extract(epoch FROM r.created_at) AS created,"
            " extract(epoch FROM min(x.published_at)) AS relayed,"
            " extract(epoch FROM min(o.received_at)) AS received"
            " FROM requests r JOIN offers o ON o.request_id = r.request_id"
            " JOIN relayed x ON x.request_id = r.request_id"
            " WHERE r.request_id = ANY($1::uuid[]) GROUP BY r.request_id, r.created_at",
            ids,
            HelpRequested.TYPE,
        )
    finally:
        await conn.close()
    timed: list[tuple[float, dict[str, float]]] = []
    for row in rows:
        if row["id"] not in made:
            continue
        created, relayed, received = (float(row[k]) for k in ("created", "relayed", "received"))
        spans = {
            "outbox": relayed - created,
            "matching": made[row["id"]] - relayed,
            "offer_to_row": received - made[row["id"]],
        }
        timed.append((created, spans))
    figures: dict[str, Any] = {"stages_p50_ms": stage_p50s(spans for _, spans in timed)}
    if duration >= MINUTES_FROM_S and timed:
        began = min(created for created, _ in timed)
        first, last = first_and_last_minute(
            ((created - began, spans) for created, spans in timed), duration
        )
        figures["stages_first_minute_p50_ms"] = stage_p50s(first)
        figures["stages_last_minute_p50_ms"] = stage_p50s(last)
    return figures


def stage_p50s(spans: Iterable[dict[str, float]]) -> dict[str, float]:
    """The median of each stage, in milliseconds, over the requests' ``spans``."""
    by_stage: dict[str, list[float]] = {name: [] for name in STAGES}
    for span in spans:
        for name, seconds in span.items():
            by_stage[name].append(seconds)
    return {name: _ms(_percentile(sorted(values), 50)) for name, values in by_stage.items()}


def _stage_line(stages: dict[str, float]) -> str:
    return ", ".join(f"{STAGES[name]} {ms} ms" for name, ms in stages.items())


def _percentile(ordered: list[float], percent: float) -> float:
    from kith.client import percentile

    return percentile(ordered, percent)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
