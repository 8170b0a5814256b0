"""The raw ceiling of ``kith bench booking``: an accept-shaped transaction with nothing else.

Its own schema in a database of its own on the same PostgreSQL, asyncpg only, no Kith code:
per accept, lock the offer, insert the booking and its helper-hour under a unique index, mark
the offer and the request, insert an outbox row; one connection per client. Measured in the
same run as Kith's accepts, it is the floor Kith's figures are divided by (``vs_raw``): what
this machine's database gives an accept at that moment, whatever else the machine is doing.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from shared import clock

T = TypeVar("T")

_SCHEMA = """
DROP TABLE IF EXISTS raw_outbox, raw_helper_hours, raw_bookings, raw_offers, raw_requests;
CREATE TABLE raw_requests (
    request_id uuid PRIMARY KEY, starts_at timestamptz NOT NULL, status text NOT NULL
);
CREATE TABLE raw_offers (
    offer_id uuid PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES raw_requests,
    helper_id uuid NOT NULL,
    status text NOT NULL
);
CREATE TABLE raw_bookings (
    booking_id uuid PRIMARY KEY,
    request_id uuid NOT NULL UNIQUE REFERENCES raw_requests,
    offer_id uuid NOT NULL UNIQUE REFERENCES raw_offers,
    helper_id uuid NOT NULL,
    starts_at timestamptz NOT NULL
);
CREATE TABLE raw_helper_hours (
    helper_id uuid NOT NULL, hour timestamptz NOT NULL, booking_id uuid NOT NULL,
    UNIQUE (helper_id, hour)
);
CREATE TABLE raw_outbox (
    id bigserial PRIMARY KEY, event_id uuid NOT NULL, envelope jsonb NOT NULL,
    published_at timestamptz
);
"""

_LOCK = "SELECT request_id, helper_id, status FROM raw_offers WHERE offer_id = $1 FOR UPDATE"
_BOOK = (
    "INSERT INTO raw_bookings (booking_id, request_id, offer_id, helper_id, starts_at)"
    " SELECT $1, r.request_id, $2, $3, r.starts_at FROM raw_requests r WHERE r.request_id = $4"
    " RETURNING starts_at"
)
_HOUR = "INSERT INTO raw_helper_hours (helper_id, hour, booking_id) VALUES ($1, $2, $3)"
_OFFER = "UPDATE raw_offers SET status = 'accepted' WHERE offer_id = $1"
_REQUEST = "UPDATE raw_requests SET status = 'booked' WHERE request_id = $1"
_OUTBOX = "INSERT INTO raw_outbox (event_id, envelope) VALUES ($1, $2::jsonb)"


@dataclass
class Timed:
    """Accepts timed one by one, and the wall-clock seconds they took together."""

    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    def add(self, other: Timed) -> None:
        """Count another turn's accepts with these."""
        self.latencies_ms += other.latencies_ms
        self.seconds += other.seconds
        self.errors += other.errors

    def figures(self) -> dict[str, Any]:
        """Accepts a second, p50, p99 and the slowest, in milliseconds."""
        ordered = sorted(self.latencies_ms)
        quantiles = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
        return {
            "accepts": len(ordered),
            "seconds": round(self.seconds, 2),
            "accepts_per_s": round(len(ordered) / self.seconds, 1),
            "p50_ms": round(quantiles[49], 1),
            "p99_ms": round(quantiles[98], 1),
            "max_ms": round(ordered[-1], 1),
            "errors": self.errors,
        }


def turn_of(items: list[T], turn: int, turns: int) -> list[T]:
    """The ``turn``-th of ``turns`` consecutive shares of ``items``."""
    return items[len(items) * turn // turns : len(items) * (turn + 1) // turns]


class RawCeiling:
    """The raw ceiling's offers, made, and its connections, open: accepted in turns
    (``accept_turn``) between Kith's, so that a slower spell of the machine weighs on both."""

    def __init__(self, connections: list[Any], offers: list[list[uuid.UUID]]) -> None:
        self._connections = connections
        self._offers = offers
        """Each client's offers, in the order it accepts them."""

    @classmethod
    async def prepare(cls, database_url: str, *, clients: int, accepts: int) -> RawCeiling:
        """Make ``accepts`` open offers, ``clients`` helpers' in turn, in ``database_url``
        (its tables made afresh), and open a connection per client."""
        import asyncpg

        setup = await asyncpg.connect(database_url)
        try:
            await setup.execute(_SCHEMA)
            helpers = [uuid.uuid4() for _ in range(clients)]
            first = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
            requests = [(uuid.uuid4(), first + timedelta(hours=i), "open") for i in range(accepts)]
            offers = [
                (uuid.uuid4(), request_id, helpers[i % clients], "open")
                for i, (request_id, _, _) in enumerate(requests)
            ]
            await setup.copy_records_to_table("raw_requests", records=requests)
            await setup.copy_records_to_table("raw_offers", records=offers)
            await setup.execute("ANALYZE raw_requests; ANALYZE raw_offers")
        finally:
            await setup.close()
        connections = [await asyncpg.connect(database_url) for _ in range(clients)]
        ids = [offer[0] for offer in offers]
        return cls(connections, [ids[index::clients] for index in range(clients)])

    async def accept_turn(self, turn: int, turns: int) -> Timed:
        """Every client accepts its ``turn``-th share of its offers, as fast as it can."""
        timed = Timed()

        async def client(index: int) -> None:
            connection = self._connections[index]
            for offer_id in turn_of(self._offers[index], turn, turns):
                began = time.perf_counter()
                await _accept(connection, offer_id)
                timed.latencies_ms.append((time.perf_counter() - began) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(client(index) for index in range(len(self._connections))))
        timed.seconds = time.perf_counter() - began
        return timed

    async def close(self) -> None:
        """Close the connections."""
        for connection in self._connections:
            await connection.close()


async def _accept(connection: Any, offer_id: uuid.UUID) -> None:
    async with connection.transaction():
        offer = await connection.fetchrow(_LOCK, offer_id)
        if offer is None or offer["status"] != "open":
            raise RuntimeError(f"offer {offer_id} is not open")
        booking_id = uuid.uuid4()
        starts_at = await connection.fetchval(
            _BOOK, booking_id, offer_id, offer["helper_id"], offer["request_id"]
        )
        await connection.execute(_HOUR, offer["helper_id"], starts_at, booking_id)
        await connection.execute(_OFFER, offer_id)
        await connection.execute(_REQUEST, offer["request_id"])
        envelope = f'{{"type": "booking.confirmed", "booking_id": "{booking_id}"}}'
        await connection.execute(_OUTBOX, uuid.uuid4(), envelope)


async def raw_accepts(database_url: str, *, clients: int, accepts: int) -> dict[str, Any]:
    """Accept ``accepts`` offers with ``clients`` connections in one go; accepts a second
    and p99 (``database_url`` names a database this function may fill)."""
    ceiling = await RawCeiling.prepare(database_url, clients=clients, accepts=accepts)
    try:
        timed = await ceiling.accept_turn(0, 1)
    finally:
        await ceiling.close()
    figures = timed.figures()
    return {"raw_accepts_per_s": figures["accepts_per_s"], "raw_p99_ms": figures["p99_ms"]}
