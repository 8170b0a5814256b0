"""``kith bench latency``: from a request posted to its offer visible through the API.

The whole platform runs (``kith up`` on the bench stack). Vetted helpers offering every hour
live in a few neighbourhoods, each with one neighbour. Requests leave on an open-loop
schedule (send times fixed in advance, never waiting for earlier answers), and each
neighbour's list of requests (``GET /v1/requests``, which counts the offers made for each)
is polled while any of theirs waits. Latency runs from a request's scheduled send time to
the first poll that shows an offer: HTTP, outbox, relay, broker, matching, broker, booking's
consumer, database, HTTP. The database's own view (offer received minus request created) is
printed alongside, without the HTTP legs and the polling.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from kith.bench import app
from kith.bench.stack import bench_stack
from shared.settings import Settings

#: A request with no offer after this long counts as an error.
GIVE_UP_S = 30.0
# Requests a poll reads: enough for the ones waiting, few enough to keep polls cheap (every
# poll is work for the service under test, on the same cores).
_PAGE = 10


@app.command("latency")
def latency(
    rate: float = typer.Option(100.0, min=1, max=1000, help="Requests per second."),
    duration: float = typer.Option(60.0, min=1, max=3600, help="Seconds of sending."),
    neighbourhoods: int = typer.Option(
        4, min=1, max=32, help="Neighbourhoods (one neighbour each)."
    ),
    helpers: int = typer.Option(3, min=1, max=20, help="Vetted helpers per neighbourhood."),
    poll_ms: float = typer.Option(
        20.0, min=1, max=1000, help="How often each neighbour's requests are read."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Post requests at a steady rate; print p50, p99 and max until each offer is visible."""
    with bench_stack(Settings()) as settings:
        figures = asyncio.run(
            _run(
                settings,
                rate=rate,
                duration=duration,
                places=neighbourhoods,
                helpers=helpers,
                poll_s=poll_ms / 1000,
            )
        )
    if json_out:
        typer.echo(json.dumps(figures))
        return
    typer.echo(
        f"latency: {figures['requests']} requests at {rate:g}/s for {duration:g} s\n"
        f"  request posted -> offer visible (API)  p50 {figures['p50_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms\n"
        f"  POST /v1/requests answered             p50 {figures['post_p50_ms']} ms\n"
        f"  request row -> offer row (database)    p50 {figures['db_p50_ms']} ms, "
        f"p99 {figures['db_p99_ms']} ms\n"
        f"  errors {figures['errors']}\n"
        f"  fetch_max_wait_ms {figures['fetch_max_wait_ms']}, outbox relay woken by NOTIFY "
        f"(poll {figures['outbox_poll_s']} s), API polled every {figures['poll_interval_ms']} ms"
    )


@dataclass
class _Neighbour:
    token: str
    #: Request id -> scheduled send time, for requests whose offer is not seen yet.
    waiting: dict[str, float] = field(default_factory=dict)
    #: Request id -> when a poll first showed it with an offer.
    offered_at: dict[str, float] = field(default_factory=dict)
    cursor: str | None = None


async def _run(
    settings: Settings,
    *,
    rate: float,
    duration: float,
    places: int,
    helpers: int,
    poll_s: float,
) -> dict[str, Any]:
    import httpx

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
            limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
            async with httpx.AsyncClient(base_url=kith.api, timeout=30, limits=limits) as http:
                latencies, errors, ids, answered = await _measure(
                    http, neighbours, rate, duration, poll_s
                )
            database = await _database_view(settings, ids)
    ordered = sorted(latencies)
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
        "fetch_max_wait_ms": settings.fetch_max_wait_ms,
        "outbox_poll_s": settings.outbox_poll_s,
        "poll_interval_ms": poll_s * 1000,
    }


async def _seed(
    api_url: str, operator_token: str, settings: Settings, count: int, helpers: int
) -> list[_Neighbour]:
    """Vetted helpers free every hour and one neighbour in each of ``count`` neighbourhoods,
    each shown to be matched once before the measurement starts."""
    from kith.faults.neighbourhoods import matched_neighbourhoods
    from kith.faults.world import Api

    api = Api(api_url)
    try:
        hoods = await matched_neighbourhoods(
            api, settings.require_bootstrap(), operator_token, count, helpers=helpers
        )
    finally:
        await api.close()
    return [_Neighbour(hood.neighbour.token) for hood in hoods]


async def _measure(
    http: Any, neighbours: list[_Neighbour], rate: float, duration: float, poll_s: float
) -> tuple[list[float], int, list[str], list[float]]:
    """Send on schedule while polling; return latencies (s), errors and the request ids."""
    from kith.faults.world import hour_from_now

    total = int(rate * duration)
    errors = 0
    ids: list[str] = []
    sending = True
    latencies: list[float] = []
    answered: list[float] = []  # how long each POST took to answer

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
            response = await http.post("/v1/requests", json=body, headers=headers)
            response.raise_for_status()
        except Exception:
            errors += 1
            return
        answered.append(time.perf_counter() - scheduled)
        request_id = str(response.json()["occurrences"][0]["request_id"])
        ids.append(request_id)
        if request_id in neighbour.offered_at:  # seen offered before the answer came back
            latencies.append(neighbour.offered_at.pop(request_id) - scheduled)
        else:
            neighbour.waiting[request_id] = scheduled

    async def poll(neighbour: _Neighbour) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {neighbour.token}"}
        while sending or neighbour.waiting:
            await asyncio.sleep(poll_s)
            now = time.perf_counter()
            for request_id, scheduled in list(neighbour.waiting.items()):
                if now - scheduled > GIVE_UP_S:
                    del neighbour.waiting[request_id]
                    errors += 1
            if not neighbour.waiting and not sending:
                return
            path = f"/v1/requests?limit={_PAGE}" + (
                f"&cursor={neighbour.cursor}" if neighbour.cursor else ""
            )
            page = (await http.get(path, headers=headers)).json()
            seen = time.perf_counter()
            settled = True
            for item in page["items"]:
                request_id = str(item["request_id"])
                if item["offers_made"] == 0:
                    settled = False
                    continue
                scheduled_at = neighbour.waiting.pop(request_id, None)
                if scheduled_at is not None:
                    latencies.append(seen - scheduled_at)
                elif request_id not in ids:
                    neighbour.offered_at.setdefault(request_id, seen)
            # A full page whose requests all have offers is never read again.
            if settled and page.get("next_cursor") and len(page["items"]) == _PAGE:
                neighbour.cursor = page["next_cursor"]

    pollers = [asyncio.create_task(poll(neighbour)) for neighbour in neighbours]
    started = time.perf_counter()
    senders = []
    for index in range(total):
        scheduled = started + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        senders.append(asyncio.create_task(post(index, scheduled)))
    await asyncio.gather(*senders)
    sending = False
    await asyncio.gather(*pollers)
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


def _percentile(ordered: list[float], percent: float) -> float:
    from kith.client import percentile

    return percentile(ordered, percent)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
