"""Booking in-process over the real broker and a fresh PostgreSQL database per module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from services.booking.bootstrap import BookingRuntime
from shared.messaging import Publisher
from shared.settings import Settings
from tests.conftest import Stack

OPERATOR_TOKEN = "operator-" + uuid.uuid4().hex


@dataclass
class Booking:
    """A running booking service and an HTTP client on it."""

    runtime: BookingRuntime
    client: httpx.AsyncClient
    settings: Settings
    publisher: Publisher
    """A producer playing matching's and trust's part (real events on the real broker)."""


#: Most tests book a visit a day or two ahead and check in straight away: for them check-in
#: opens this long before a visit. The window's own tests (test_visit_closing) keep the default.
CHECK_IN_OPENS_EARLY_S = 3 * 24 * 3600


@pytest.fixture(scope="module")
async def booking(stack: Stack) -> AsyncIterator[Booking]:
    async with running_booking(stack, check_in_opens_before_s=CHECK_IN_OPENS_EARLY_S) as running:
        yield running


@asynccontextmanager
async def running_booking(stack: Stack, **overrides: object) -> AsyncIterator[Booking]:
    """Booking in this process on a database of its own, with settings ``overrides``."""
    settings = stack.settings(operator_token=OPERATOR_TOKEN, outbox_poll_s=0.05, **overrides)
    parts = urlsplit(stack.database_url)
    database_url = urlunsplit(parts._replace(path=f"/kith_booking_{uuid.uuid4().hex[:12]}"))
    runtime = BookingRuntime(
        settings, database_url=database_url, group_id=f"test-booking-{uuid.uuid4()}"
    )
    await runtime.start()
    publisher = Publisher(settings, client_id="test-peer")
    await publisher.start()
    transport = httpx.ASGITransport(app=runtime.app())
    client = httpx.AsyncClient(transport=transport, base_url="http://booking.test")
    try:
        await runtime.ready()
        await runtime.consuming()
        yield Booking(runtime, client, settings, publisher)
    finally:
        await client.aclose()
        await publisher.stop()
        await runtime.stop()
