"""The shared messaging code records Prometheus metrics, and a process serves them over HTTP.

Each test labels its publisher and consumer with a service name of its own, so the counters it
reads move only for its own events, though the topics are shared with every other test.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from typing import cast

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from shared import metrics
from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import DEAD_LETTERS, REQUESTS
from shared.messaging import Delivery, EventConsumer, Publisher, RejectedEvent
from shared.postgres import (
    OutboxRelay,
    add_to_outbox,
    apply_migrations,
    connect_pool,
    ensure_database,
)
from tests.conftest import Stack
from tests.integration.ops.support import somewhere
from tests.support import eventually

CANCELLED = HelpRequestCancelled.TYPE


def sample(name: str, **labels: str) -> float:
    """A metric's current value; 0 before it was ever recorded."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def pool(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    url = stack.database_url.rsplit("/", 1)[0] + f"/kith_metrics_{uuid.uuid4().hex[:8]}"
    await ensure_database(url)
    pool = await connect_pool(url, min_size=1, max_size=2)
    await apply_migrations(pool)
    yield pool
    await pool.close()


async def test_consumer_and_publisher_count_events_latency_lag_and_dead_letters(
    stack: Stack,
) -> None:
    service = f"test-{uuid.uuid4().hex[:8]}"
    settings = stack.settings()
    _, neighbourhood = somewhere()
    refused = Envelope.wrap(
        HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood),
        producer="test",
    )
    handled: list[Envelope[Payload]] = []

    async def handler(envelope: Envelope[Payload], _: Delivery) -> None:
        handled.append(envelope)
        if envelope.event_id == refused.event_id:
            raise RejectedEvent("this one is refused on purpose")

    publisher = Publisher(settings, client_id="test-metrics", service=service)
    await publisher.start()
    consumer = EventConsumer(
        settings,
        name=service,
        group_id=f"test-{uuid.uuid4()}",
        topics=[REQUESTS],
        handler=handler,
        dead_letters=publisher,
        service=service,
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    raw = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await raw.start()
    try:
        accepted = Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood),
            producer="test",
        )
        await publisher.publish_many([accepted, refused])
        await raw.send_and_wait(REQUESTS.name, b"{broken", key=service.encode())

        async def caught_up() -> bool:
            letters = {
                reason: sample(
                    "kith_dead_letters_total", service=service, topic=REQUESTS.name, reason=reason
                )
                for reason in ("rejected", "undecodable")
            }
            lags = [
                REGISTRY.get_sample_value(
                    "kith_consumer_lag",
                    {"service": service, "topic": REQUESTS.name, "partition": str(p)},
                )
                for p in range(REQUESTS.partitions)
            ]
            measured = [lag for lag in lags if lag is not None]
            return (
                {accepted.event_id, refused.event_id} <= {e.event_id for e in handled}
                and letters["rejected"] == 1
                and letters["undecodable"] >= 1
                and bool(measured)
                and not any(measured)
            )

        await eventually(caught_up, timeout_s=30, what="every event consumed and lag at 0")
    finally:
        await consumer.stop()
        task.cancel()
        await raw.stop()
        await publisher.stop()

    cancelled_handled = sum(1 for e in handled if e.type == CANCELLED)
    assert (
        sample("kith_events_consumed_total", service=service, topic=REQUESTS.name, type=CANCELLED)
        == cancelled_handled
    ), "every event consumed and decoded is counted once, by type"
    assert sample("kith_handler_seconds_count", service=service, topic=REQUESTS.name) == len(
        handled
    ), "each handler call is timed, the refused one too"
    assert sample(
        "kith_events_consumed_total", service=service, topic=REQUESTS.name, type="undecodable"
    ) == sample(
        "kith_dead_letters_total", service=service, topic=REQUESTS.name, reason="undecodable"
    )
    assert (
        sample("kith_events_published_total", service=service, topic=REQUESTS.name, type=CANCELLED)
        == 2
    )
    dead_lettered = sum(
        sample("kith_dead_letters_total", service=service, topic=REQUESTS.name, reason=reason)
        for reason in metrics.DeadLetterReason
    )
    assert (
        sample("kith_events_published_total", service=service, topic=DEAD_LETTERS.name, type="raw")
        == dead_lettered
    ), "each dead letter is published through the same publisher"


async def test_relay_reports_its_backlog_and_what_it_published(
    stack: Stack, pool: asyncpg.Pool
) -> None:
    service = f"test-{uuid.uuid4().hex[:8]}"
    _, neighbourhood = somewhere()
    publisher = Publisher(stack.settings(), client_id="test-relay", service=service)
    await publisher.start()
    try:
        events = [
            Envelope.wrap(
                HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood),
                producer="test",
            )
            for _ in range(3)
        ]
        async with pool.acquire() as conn, conn.transaction():
            await add_to_outbox(cast(asyncpg.Connection, conn), events)
        relay = OutboxRelay(pool, publisher, poll_s=0.1, batch=2)

        assert await relay.publish_pending() == 2
        assert sample("kith_outbox_backlog", service=service) == 1
        assert await relay.publish_pending() == 1
        assert sample("kith_outbox_backlog", service=service) == 0
    finally:
        await publisher.stop()
    assert (
        sample("kith_events_published_total", service=service, topic=REQUESTS.name, type=CANCELLED)
        == 3
    )


async def test_metrics_server_serves_the_registry_over_http(stack: Stack) -> None:
    before = metrics.service_name()
    server = metrics.start_metrics_server(stack.settings(metrics_port=0), "test-http")
    assert server is not None
    try:
        assert metrics.service_name() == "test-http"
        metrics.EVENTS_CONSUMED.labels("test-http", "kith.test.v1", "test.seen").inc(3)
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://{server.host}:{server.port}/metrics")
        assert response.status_code == 200
        assert (
            'kith_events_consumed_total{service="test-http",topic="kith.test.v1",type="test.seen"}'
            " 3.0" in response.text
        )
    finally:
        server.close()
        metrics.set_service_name(before)
    assert metrics.start_metrics_server(stack.settings(), "test-none") is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = stack.settings(metrics_port=port)
        assert metrics.start_metrics_server(busy, "test-busy") is None, "a taken port stops nothing"
    metrics.set_service_name(before)
