"""``kith bench booking``: accept-offer throughput and latency through the real API.

Booking runs as its own process (``kith up --services booking``) on the bench stack. The
benchmark signs up one helper per client and a neighbour, posts the neighbour's requests at
distinct hours through the API, publishes an offer for each (playing matching's part on the
real topic), waits until booking holds them all, then has every client accept its own offers
as fast as it can. Each accept is the real transaction: lock, check, booking, helper-hours
under their unique index, outbox.

With ``--in-process`` the clients call booking's accept use case from the benchmark's own
process over a pool like booking's, skipping HTTP: the difference between the two runs is what
the HTTP layer costs, and the in-process figure is as far as the database and the service
layer go on this machine.

In the same run, on the same database server, it measures the raw ceiling
(``kith.bench.raw_accept``: an accept-shaped transaction on its own schema, asyncpg only, as
many connections as clients) and prints Kith's figures against it: ``vs_raw`` (accepts a
second over the raw's) and ``p99_vs_raw``. The two take turns, a quarter of each at a time
(``TURNS``), each of Kith's turns ending once booking has published what it committed:
absolute figures swing by 2x on a shared machine, and a ratio of two runs minutes apart
swung with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer

from kith.bench import app
from kith.bench.raw_accept import RawCeiling, Timed, turn_of
from kith.bench.stack import bench_stack
from shared import clock
from shared.settings import Settings

_SIGN_UP = {
    "password": "bench-password",
    "home": {"lat": 51.5450, "lng": -0.0553, "address": "1 Bench Street"},
    "time_zone": "Europe/London",
    "travel_radius_km": 3,
    "weekly_hour_cap": 60,
    "languages": ["en"],
}


@app.command("booking")
def booking(
    clients: int = typer.Option(32, min=1, max=256, help="Concurrent clients, one helper each."),
    accepts: int = typer.Option(5000, min=1, max=100_000, help="Offers to accept in all."),
    processes: int = typer.Option(
        1, min=1, max=8, help="Booking processes sharing the API port (kith up --replicas)."
    ),
    in_process: bool = typer.Option(
        False,
        "--in-process",
        help="Call booking's accept use case from the benchmark's own process, without HTTP:"
        " what the database and the service layer allow on their own.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Accept offers with N concurrent clients; print throughput, p50, p99 and errors."""
    with bench_stack(Settings()) as settings:
        figures = asyncio.run(
            _run(
                settings,
                clients=clients,
                accepts=accepts,
                processes=processes,
                in_process=in_process,
            )
        )
    if json_out:
        typer.echo(json.dumps(figures))
        return
    typer.echo(
        f"booking: {figures['accepts']} accepts by {clients} clients in {figures['seconds']} s, "
        f"{processes} booking process{'es' if processes > 1 else ''}"
        f"{', accepts in process (no HTTP)' if in_process else ''}\n"
        f"  throughput  {figures['accepts_per_s']} accepts/s\n"
        f"  latency     p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"max {figures['max_ms']} ms\n"
        f"  errors      {figures['errors']}\n"
        f"  raw ceiling {figures['raw_accepts_per_s']} accepts/s, p99 {figures['raw_p99_ms']} ms"
        f" (asyncpg alone, same database, same run)\n"
        f"  vs raw      {figures['vs_raw']} of its throughput, p99 {figures['p99_vs_raw']}x its p99"
        f" (targets: >= 0.5 over HTTP, >= 0.75 in process; p99 <= 3x)"
    )


async def _run(
    settings: Settings,
    *,
    clients: int,
    accepts: int,
    processes: int = 1,
    in_process: bool = False,
) -> dict[str, Any]:
    import asyncpg
    import httpx

    from kith.running import running_kith
    from shared.messaging import ensure_topics

    await ensure_topics(settings)
    with tempfile.TemporaryDirectory(prefix="kith-bench-booking-") as state:
        async with running_kith(
            bootstrap=settings.require_bootstrap(),
            database_url=settings.database_url or "",
            state_dir=Path(state),
            services=("booking",),
            replicas={"booking": processes},
        ) as kith:
            limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
            async with httpx.AsyncClient(base_url=kith.api, timeout=30, limits=limits) as http:
                helpers = await _sign_up_helpers(http, clients)
                offers = await _offers(http, settings, helpers, accepts)
                database = await asyncpg.connect(settings.database_for("booking"))
                try:
                    await _until_booking_holds(database, [offer["offer_id"] for offer in offers])
                finally:
                    await database.close()
            accepting = (
                _in_process(settings, helpers) if in_process else _over_http(kith.api, helpers)
            )
            raw = await _raw_ceiling(settings, clients=clients, accepts=accepts)
            try:
                async with accepting as accept:
                    ours, theirs = await _in_turns(settings, helpers, offers, accept, raw)
            finally:
                await raw.close()
    figures = ours.figures()
    floor = theirs.figures()
    return {
        "benchmark": "booking",
        "clients": clients,
        **figures,
        "raw_accepts_per_s": floor["accepts_per_s"],
        "raw_p99_ms": floor["p99_ms"],
        "vs_raw": round(figures["accepts_per_s"] / floor["accepts_per_s"], 3),
        "p99_vs_raw": round(figures["p99_ms"] / max(floor["p99_ms"], 0.1), 2),
        "processes": processes,
        "in_process": in_process,
    }


#: Kith's accepts and the raw ceiling's take turns, a share of each at a time: measured one
#: after the other, the second took whatever slower spell the shared machine had then.
TURNS = 4


async def _in_turns(
    settings: Settings,
    helpers: list[dict[str, str]],
    offers: list[dict[str, Any]],
    accept: Accept,
    raw: RawCeiling,
) -> tuple[Timed, Timed]:
    """Kith's accepts and the raw ceiling's, a share of each in turn; each turn of Kith's
    ends once booking has published what it committed, so none of it weighs on the raw's."""
    import asyncpg

    ours, theirs = Timed(), Timed()
    mine: list[list[dict[str, Any]]] = [[] for _ in helpers]
    for offer in offers:
        mine[offer["helper"]].append(offer)
    database = await asyncpg.connect(settings.database_for("booking"))
    try:
        for turn in range(TURNS):
            ours.add(await _accept_turn([turn_of(own, turn, TURNS) for own in mine], accept))
            await _until_published(database)
            theirs.add(await raw.accept_turn(turn, TURNS))
    finally:
        await database.close()
    return ours, theirs


async def _raw_ceiling(settings: Settings, *, clients: int, accepts: int) -> RawCeiling:
    """The raw ceiling on the same server, in a database of its own (made afresh)."""
    from shared.postgres import ensure_database

    url = settings.database_for("bench_raw_accept")
    await ensure_database(url)
    return await RawCeiling.prepare(url, clients=clients, accepts=accepts)


async def _sign_up_helpers(http: Any, clients: int) -> list[dict[str, str]]:
    run = uuid.uuid4().hex[:8]

    async def one(index: int) -> dict[str, str]:
        body = {
            **_SIGN_UP,
            "display_name": f"Helper {index}",
            "email": f"helper{index}.{run}@bench.kith.example",
            "skills": ["shopping"],
        }
        response = await http.post("/v1/people", json=body)
        response.raise_for_status()
        created: dict[str, str] = response.json()
        return created

    return list(await asyncio.gather(*(one(index) for index in range(clients))))


async def _offers(
    http: Any, settings: Settings, helpers: list[dict[str, str]], accepts: int
) -> list[dict[str, Any]]:
    """Requests at distinct hours, and an offer of each to one helper, round robin."""
    import httpx

    from shared.contracts import Envelope, new_id
    from shared.contracts.requests import OfferMade
    from shared.geo import neighbourhood_of
    from shared.messaging import Publisher

    neighbour = await http.post(
        "/v1/people",
        json={
            **_SIGN_UP,
            "display_name": "Neighbour",
            "skills": [],
            "email": f"neighbour.{uuid.uuid4().hex[:8]}@bench.kith.example",
        },
    )
    neighbour.raise_for_status()
    neighbour_id, token = neighbour.json()["person_id"], neighbour.json()["token"]
    first = (clock.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    gate = asyncio.Semaphore(16)

    run = uuid.uuid4().hex[:8]

    async def ask(index: int) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{run}-{index}"}
        body = {
            "skill": "shopping",
            "starts_at": (first + timedelta(hours=index)).isoformat(),
            "hours": 1,
        }
        async with gate:
            try:
                response = await http.post("/v1/requests", headers=headers, json=body)
            except httpx.TransportError:
                # A keep-alive connection the server closed as it was reused: the key makes
                # the one retry safe.
                response = await http.post("/v1/requests", headers=headers, json=body)
        response.raise_for_status()
        occurrence: dict[str, Any] = response.json()["occurrences"][0]
        return occurrence

    requests = await asyncio.gather(*(ask(index) for index in range(accepts)))
    home: Any = _SIGN_UP["home"]
    neighbourhood = neighbourhood_of(home["lat"], home["lng"])
    offers: list[dict[str, Any]] = []
    envelopes = []
    for index, request in enumerate(requests):
        helper = helpers[index % len(helpers)]
        offer = OfferMade(
            offer_id=new_id(),
            request_id=request["request_id"],
            helper_id=helper["person_id"],
            neighbour_id=neighbour_id,
            neighbourhood=neighbourhood,
            skill="shopping",
            starts_at=request["starts_at"],
            hours=1,
            round=1,
            expires_at=clock.now() + timedelta(hours=1),
        )
        envelopes.append(Envelope.wrap(offer, producer="bench"))
        offers.append({"offer_id": offer.offer_id, "helper": index % len(helpers)})
    publisher = Publisher(settings, client_id="bench-booking")
    await publisher.start()
    try:
        await publisher.publish_many(envelopes)
    finally:
        await publisher.stop()
    return offers


async def _until_booking_holds(database: Any, offer_ids: list[uuid.UUID]) -> None:
    deadline = time.monotonic() + 120
    while True:
        held = await database.fetchval(
            "SELECT count(*) FROM offers WHERE offer_id = ANY($1::uuid[])", offer_ids
        )
        if held == len(offer_ids):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"booking holds {held} of {len(offer_ids)} offers after 120 s")
        await asyncio.sleep(0.1)


async def _until_published(database: Any) -> None:
    """Wait until booking's outbox relay has published every event committed so far."""
    deadline = time.monotonic() + 120
    while await database.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
        if time.monotonic() > deadline:
            raise TimeoutError("booking's outbox still holds unpublished events after 120 s")
        await asyncio.sleep(0.02)


class _Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator should be.

    httpx's pool scans every connection on each request (quadratic in the clients) and costs
    as much CPU as the service under test; on a 2-core machine it would measure itself.
    """

    def __init__(self, api: str) -> None:
        parts = urlsplit(api)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, token: str) -> int:
        """POST with no body; return the status (the body is read and dropped)."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\nAuthorization: Bearer {token}"
            "\r\nContent-Length: 0\r\n\r\n".encode()
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await self._reader.readexactly(length)
        return int(lines[0].split()[1])

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()


#: One client's accept of one offer: whether it booked.
Accept = Callable[[int, dict[str, Any]], Awaitable[bool]]


@contextlib.asynccontextmanager
async def _over_http(api: str, helpers: list[dict[str, str]]) -> AsyncIterator[Accept]:
    """Accepts through booking's API, a keep-alive connection per client."""
    connections = [_Connection(api) for _ in helpers]

    async def accept(index: int, offer: dict[str, Any]) -> bool:
        path = f"/v1/offers/{offer['offer_id']}/accept"
        return await connections[index].post(path, helpers[index]["token"]) == 201

    try:
        yield accept
    finally:
        for connection in connections:
            await connection.close()


@contextlib.asynccontextmanager
async def _in_process(settings: Settings, helpers: list[dict[str, str]]) -> AsyncIterator[Accept]:
    """Booking's accept use case called from here, over a pool like booking's own, with an
    outbox relay here publishing what the accepts commit, as booking's process has."""
    from services.booking.adapters.unit_of_work import PostgresUnitOfWork
    from services.booking.bootstrap import open_pool
    from services.booking.domain.errors import BookingProblem
    from services.booking.service_layer import offers as use_cases
    from shared import collector
    from shared.contracts import utc_now
    from shared.messaging import Publisher
    from shared.postgres import OutboxRelay, RelayBell

    collector.tune()  # as booking's own process runs (``lifecycle.prepare_process``)
    people = [uuid.UUID(helper["person_id"]) for helper in helpers]
    # A connection for each client, and the relay's two (one to publish, one to listen).
    pool = await open_pool(
        settings.database_for("booking"), min_size=len(helpers), max_size=len(helpers) + 2
    )
    bell = RelayBell()
    uow = PostgresUnitOfWork(pool, bell)
    publisher = Publisher(settings, client_id="bench-booking")
    await publisher.start()
    relay = OutboxRelay(pool, publisher, poll_s=settings.outbox_poll_s, bell=bell)
    relaying = asyncio.create_task(relay.run(), name="bench-outbox")

    async def accept(index: int, offer: dict[str, Any]) -> bool:
        try:
            await use_cases.accept(uow, people[index], offer["offer_id"], utc_now())
        except BookingProblem:
            return False
        return True

    try:
        yield accept
    finally:
        relay.stop()
        await relaying
        await publisher.stop()
        await pool.close()


async def _accept_turn(shares: list[list[dict[str, Any]]], accept: Accept) -> Timed:
    """Every client accepts its share of offers one after another, as fast as it can."""
    timed = Timed()

    async def client(index: int) -> None:
        for offer in shares[index]:
            began = time.perf_counter()
            booked = await accept(index, offer)
            timed.latencies_ms.append((time.perf_counter() - began) * 1000)
            if not booked:
                timed.errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client(index) for index in range(len(shares))))
    timed.seconds = time.perf_counter() - began
    return timed
