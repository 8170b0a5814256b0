"""The ledger in-process on its own database, consuming the real broker.

Booking's session check is answered in memory at the HTTP edge (booking's own tests cover
its sessions; the e2e test covers the two together)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from fastapi import Depends, FastAPI

from services.ledger.bootstrap import LedgerService
from services.ops.adapters.ledger_api import LedgerApi
from services.ops.adapters.operator_api import SignedIn
from services.ops.entrypoints.http import ledger_pages
from shared.contracts import Envelope
from shared.contracts.bookings import BookingCancelled, Side, VisitCompleted
from shared.contracts.skills import Skill
from shared.geo import neighbourhood_of
from tests.conftest import Stack


def fresh_database(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/kith_ledger_{uuid.uuid4().hex[:12]}"))


class Sessions:
    """Booking's ``GET /v1/me`` as the ledger sees it: a token per person."""

    def __init__(self) -> None:
        self.tokens: dict[str, uuid.UUID] = {}

    def person(self) -> tuple[uuid.UUID, str]:
        person_id, token = uuid.uuid4(), uuid.uuid4().hex
        self.tokens[token] = person_id
        return person_id, token

    def handler(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        person_id = self.tokens.get(token)
        if request.url.path != "/v1/me" or person_id is None:
            return httpx.Response(401, json={"title": "Unauthorized"})
        return httpx.Response(200, json={"person_id": str(person_id)})


@pytest.fixture(scope="module")
def sessions() -> Sessions:
    return Sessions()


@pytest.fixture(scope="module")
async def ledger(stack: Stack, sessions: Sessions) -> AsyncIterator[LedgerService]:
    service = LedgerService(
        stack.settings(),
        database_url=fresh_database(stack.database_url),
        group_id=f"test-ledger-{uuid.uuid4()}",
        booking_transport=httpx.MockTransport(sessions.handler),
    )
    await service.start()
    try:
        await asyncio.wait_for(service.ready(), timeout=30)
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def api(ledger: LedgerService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ledger.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
        yield client


@pytest.fixture
async def console(stack: Stack, ledger: LedgerService) -> AsyncIterator[httpx.AsyncClient]:
    """The console's ledger page (signed in) over the ledger's real API."""
    api = LedgerApi(
        stack.settings(operator_token=ledger.operator_token),
        transport=httpx.ASGITransport(app=ledger.app()),
    )
    app = FastAPI()
    # The development bootstrap administrator: the ledger knows them without asking booking.
    who = SignedIn("bootstrap", ("administrator",), ledger.operator_token)

    async def current(_: object) -> SignedIn:
        return who

    ledger_pages.install(app, api, current, Depends(lambda: who))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        yield client


def operator(ledger: LedgerService) -> dict[str, str]:
    return {"Authorization": f"Bearer {ledger.operator_token}"}


def a_cell() -> str:
    return str(neighbourhood_of(random.uniform(50, 58), random.uniform(-5, 1.5)))


def completed(
    helper_id: uuid.UUID,
    neighbour_id: uuid.UUID,
    *,
    cell: str,
    skill: Skill = Skill.SHOPPING,
    hours: int = 2,
    booking_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
) -> Envelope[VisitCompleted]:
    return Envelope.wrap(
        VisitCompleted(
            booking_id=booking_id or uuid.uuid4(),
            request_id=request_id or uuid.uuid4(),
            helper_id=helper_id,
            neighbour_id=neighbour_id,
            neighbourhood=cell,
            skill=skill,
            starts_at=datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            - timedelta(hours=hours),
            hours=hours,
        ),
        producer="test",
    )


def cancelled_late(
    helper_id: uuid.UUID, neighbour_id: uuid.UUID, *, cell: str, by: Side, hours: int = 2
) -> Envelope[BookingCancelled]:
    return Envelope.wrap(
        BookingCancelled(
            booking_id=uuid.uuid4(),
            request_id=uuid.uuid4(),
            helper_id=helper_id,
            neighbour_id=neighbour_id,
            neighbourhood=cell,
            skill=Skill.SHOPPING,
            starts_at=datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            + timedelta(hours=3),
            hours=hours,
            cancelled_by=by,
            late=True,
        ),
        producer="test",
    )
