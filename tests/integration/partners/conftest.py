"""The partners gateway in-process on its own fresh database, and readers of real topics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from services.partners.bootstrap import PartnersGateway
from shared.messaging import Publisher
from shared.settings import Settings
from tests.conftest import Stack

OPERATOR_TOKEN = "operator-" + uuid.uuid4().hex
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@dataclass
class Gateway:
    """A running gateway, an HTTP client on it, and a producer playing the other services."""

    runtime: PartnersGateway
    client: httpx.AsyncClient
    settings: Settings
    publisher: Publisher


def fresh_database(url: str, service: str) -> str:
    """A new database on the same server, for one test module alone."""
    return urlunsplit(urlsplit(url)._replace(path=f"/kith_{service}_{uuid.uuid4().hex[:12]}"))


def gateway_settings(stack: Stack) -> Settings:
    """Settings with quick retries, so a test watches a backoff in well under a second."""
    return stack.settings(
        operator_token=OPERATOR_TOKEN,
        outbox_poll_s=0.05,
        webhook_backoff_base_s=0.05,
        webhook_backoff_cap_s=0.2,
        webhook_max_attempts=6,
        webhook_timeout_s=2.0,
        webhook_max_response_bytes=4096,
        # The receivers of these tests listen on loopback over plain http; allowed here
        # explicitly, as `kith up` does in development.
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
    )


@pytest.fixture(scope="module")
async def gateway(stack: Stack) -> AsyncIterator[Gateway]:
    settings = gateway_settings(stack)
    runtime = PartnersGateway(
        settings,
        database_url=fresh_database(stack.database_url, "partners"),
        inbox_group=f"test-partners-inbox-{uuid.uuid4()}",
        projector_group=f"test-partners-projector-{uuid.uuid4()}",
        webhook_poll_s=0.2,
    )
    await runtime.start()
    publisher = Publisher(settings, client_id="test-partners-peer")
    await publisher.start()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=runtime.app()), base_url="http://partners.test"
    )
    try:
        await asyncio.wait_for(runtime.ready(), timeout=60)
        # Only this module's messages: earlier modules' partners are unknown here.
        await runtime.skip_history()
        yield Gateway(runtime, client, settings, publisher)
    finally:
        await client.aclose()
        await publisher.stop()
        await runtime.stop()
