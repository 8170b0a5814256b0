"""Helpers for booking's integration tests: people, reading real topics, serving over TCP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from services.booking.bootstrap import BookingRuntime
from services.booking.domain.operators import totp_now
from services.booking.service_layer import events
from services.booking.service_layer.ports import UnitOfWork
from shared import clock
from shared.contracts import Envelope, Payload, UndecodableEvent, decode, utc_now
from shared.contracts.requests import OfferMade, Reason, ReasonCode
from shared.contracts.trust import StandingChanged
from shared.embedded import free_port
from shared.messaging.reader import StreamReader
from tests.integration.booking.conftest import Booking
from tests.support import eventually


async def sign_up(
    client: httpx.AsyncClient, name: str = "Ada", **overrides: Any
) -> tuple[str, dict[str, str]]:
    """A new person at a random place near London; their id and auth headers."""
    body: dict[str, Any] = {
        "display_name": name,
        "email": f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.org",
        "password": "a long enough password",
        "home": {
            "lat": random.uniform(51.3, 51.7),
            "lng": random.uniform(-0.4, 0.2),
            "address": f"{random.randint(1, 200)} Acacia Avenue",
            "phone": "+44 20 7946 0000",
        },
        "time_zone": "Europe/London",
        "skills": ["shopping", "company"],
        "travel_radius_km": 3,
        "weekly_hour_cap": 6,
        "languages": ["en"],
        **overrides,
    }
    response = await client.post("/v1/people", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["person_id"], {"Authorization": f"Bearer {data['token']}"}


#: Weekly rules: free every hour of every day.
EVERY_HOUR = [
    {"weekday": day, "start": "00:00", "end": "24:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


async def vetted_helper(booking: Booking, name: str) -> tuple[str, dict[str, str]]:
    """A helper approved for shopping for two years and free every hour."""
    helper_id, headers = await sign_up(booking.client, name)
    standing = StandingChanged(
        person_id=uuid.UUID(helper_id),
        suspended=False,
        approved_skills={"shopping": clock.now() + timedelta(days=730)},
    )
    await events.apply(booking.runtime.uow, Envelope.wrap(standing, producer="trust"))
    response = await booking.client.put(
        "/v1/me/availability", headers=headers, json={"rules": EVERY_HOUR}
    )
    assert response.status_code == 200, response.text
    return helper_id, headers


def future_hour(days: int = 1, hour_offset: int = 0) -> datetime:
    """A whole UTC hour some days from now."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return base + timedelta(days=days, hours=hour_offset)


class TopicReader:
    """Reads a real topic from the beginning, without a group, and keeps what it decodes."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._reader = StreamReader(bootstrap, [topic], from_beginning=True, service="tests")
        self.seen: list[Envelope[Payload]] = []
        self.raw: list[Any] = []

    async def __aenter__(self) -> TopicReader:
        await self._reader.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._reader.stop()

    async def _poll(self) -> None:
        for record in await self._reader.read_records(timeout_ms=100):
            self.raw.append(record)
            try:
                self.seen.append(decode(record.value))
            except UndecodableEvent:
                continue

    async def wait_for(
        self, match: Callable[[Envelope[Payload]], bool], count: int = 1, what: str = "event"
    ) -> list[Envelope[Payload]]:
        """Poll until ``count`` events match; return them."""

        async def probe() -> list[Envelope[Payload]] | None:
            await self._poll()
            found = [envelope for envelope in self.seen if match(envelope)]
            return found if len(found) >= count else None

        return await eventually(probe, timeout_s=20, what=what)

    async def wait_for_raw(self, match: Callable[[Any], bool], what: str) -> Any:
        """Poll until a raw record matches; return it."""

        async def probe() -> Any:
            await self._poll()
            return next((record for record in self.raw if match(record)), None)

        return await eventually(probe, timeout_s=20, what=what)


async def ask(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    starts_at: datetime,
    hours: int = 2,
    **extra: Any,
) -> dict[str, Any]:
    """Ask for help through the API; the created series."""
    response = await client.post(
        "/v1/requests",
        headers=headers,
        json={"skill": "shopping", "starts_at": starts_at.isoformat(), "hours": hours, **extra},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def seed_offer(uow: UnitOfWork, request_id: str, helper_id: str) -> str:
    """Apply matching's offer through booking's own consumer path (no broker round trip)."""
    return str((await offer_made(uow, request_id, helper_id)).offer_id)


async def offer_made(uow: UnitOfWork, request_id: str, helper_id: str) -> OfferMade:
    """``seed_offer``, returning the offer as matching made it."""
    offer = await offer_for(uow, request_id, helper_id)
    await events.apply(uow, Envelope.wrap(offer, producer="matching"))
    return offer


async def offer_for(uow: UnitOfWork, request_id: str, helper_id: str) -> OfferMade:
    """The offer of a request to a helper, as matching would make it (not yet applied)."""
    async with uow.read() as repo:
        request = await repo.request(uuid.UUID(request_id))
    assert request is not None
    return OfferMade(
        offer_id=uuid.uuid4(),
        request_id=request["request_id"],
        helper_id=uuid.UUID(helper_id),
        neighbour_id=request["neighbour_id"],
        neighbourhood=request["neighbourhood"],
        skill=request["skill"],
        starts_at=request["starts_at"],
        hours=request["hours"],
        round=1,
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
        reasons=[Reason(code=ReasonCode.NEARBY, text="Lives nearby")],
    )


async def booked(
    client: httpx.AsyncClient,
    uow: UnitOfWork,
    neighbour: dict[str, str],
    helper_id: str,
    helper: dict[str, str],
    starts_at: datetime,
    hours: int = 2,
) -> str:
    """A confirmed booking of a new request; its id."""
    series = await ask(client, neighbour, starts_at, hours)
    offer_id = await seed_offer(uow, series["occurrences"][0]["request_id"], helper_id)
    response = await client.post(f"/v1/offers/{offer_id}/accept", headers=helper)
    assert response.status_code == 201, response.text
    booking_id: str = response.json()["booking_id"]
    return booking_id


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` behind a real uvicorn on a free port (for clients that stream): its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:

        async def started() -> bool:
            assert not serving.done(), "uvicorn failed to start"
            return bool(server.started)

        await eventually(started, what="uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving


def is_stream(operation: dict[str, Any]) -> bool:
    """Whether an OpenAPI operation answers with an endless event stream."""
    ok = operation.get("responses", {}).get("200", {})
    return "text/event-stream" in ok.get("content", {})


async def signed_in_operator(
    client: httpx.AsyncClient, bootstrap: dict[str, str], name: str, *roles: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """An operator's account made by the bootstrap administrator, signed in with its password
    and current one-time code; their auth headers and the account (with its TOTP secret)."""
    password = "an operator's long password"
    made = await client.post(
        "/v1/operator/accounts",
        headers=bootstrap,
        json={
            "email": f"{name.lower().replace(' ', '.')}-{uuid.uuid4().hex[:8]}@kith.example",
            "name": name,
            "roles": list(roles) or ["coordinator"],
            "password": password,
        },
    )
    assert made.status_code == 201, made.text
    account = made.json()
    session = await client.post(
        "/v1/operator/sessions",
        json={
            "email": account["email"],
            "password": password,
            "code": totp_now(account["totp_secret"], utc_now()),
        },
    )
    assert session.status_code == 201, session.text
    account["password"] = password
    return {"Authorization": f"Bearer {session.json()['token']}"}, account


class Listener:
    """One person's open event stream, its notices collected as they come."""

    def __init__(self) -> None:
        self.notices: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.open = asyncio.Event()

    async def follow(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        async with client.stream("GET", "/v1/me/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("retry:"):
                    self.open.set()  # subscribed before the first line is sent
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    await self.notices.put((kind, json.loads(line.removeprefix("data: "))))

    async def next(self) -> tuple[str, dict[str, Any]]:
        return await asyncio.wait_for(self.notices.get(), timeout=20)


@contextlib.asynccontextmanager
async def listening(
    client: httpx.AsyncClient, *people: dict[str, str]
) -> AsyncIterator[list[Listener]]:
    listeners = [Listener() for _ in people]
    pairs = zip(listeners, people, strict=True)
    tasks = [asyncio.create_task(listener.follow(client, who)) for listener, who in pairs]
    try:
        for listener, task in zip(listeners, tasks, strict=True):
            opened = asyncio.create_task(listener.open.wait())
            await asyncio.wait({opened, task}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
            opened.cancel()
            if task.done():
                task.result()  # raise why the stream ended
            assert listener.open.is_set(), "the event stream did not open"
        yield listeners
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@asynccontextmanager
async def two_processes(booking: Booking, **rates: str) -> AsyncIterator[list[BookingRuntime]]:
    """Two more booking processes on the module's database, with these limits."""
    settings = booking.settings.model_copy(update=rates)
    async with AsyncExitStack() as stack:
        runtimes = []
        for _ in range(2):
            runtime = BookingRuntime(
                settings, database_url=booking.runtime.database_url, group_id=f"t-{uuid.uuid4()}"
            )
            await runtime.start()
            stack.push_async_callback(runtime.stop)
            runtimes.append(runtime)
        yield runtimes


def client_at(runtime: BookingRuntime, address: str) -> httpx.AsyncClient:
    """A client of ``runtime``'s API that calls from ``address``."""
    transport = httpx.ASGITransport(app=runtime.app(), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://booking.test")


def assert_limited(answer: httpx.Response, *, window_s: int) -> None:
    """The answer is a rate limit's 429 problem whose ``Retry-After`` header (seconds) is
    within the limit's window of ``window_s`` seconds."""
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 429
    # A header's value, not a time measured: when the limit lets the caller in again.
    retry_after = int(answer.headers["retry-after"])
    assert retry_after in range(1, window_s + 1), answer.headers
