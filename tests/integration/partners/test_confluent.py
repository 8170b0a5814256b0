"""A partner on another Kafka client (confluent-kafka, i.e. librdkafka) takes part: it
produces a referral to the inbox as plain JSON with its key header, Kith turns it into a
request, and the partner reads that request back on its own feed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from services.booking.bootstrap import BookingRuntime
from shared.contracts.partners import PersonReferred
from shared.contracts.requests import HelpRequested
from shared.contracts.topics import PARTNERS, PARTNERS_INBOX, REQUESTS
from shared.messaging import KafkaConnection
from tests.conftest import Stack
from tests.integration.partners.conftest import Gateway, fresh_database
from tests.integration.partners.support import Reader, future_hour, random_place, register
from tests.support import eventually


@pytest.fixture(scope="module")
async def booking(gateway: Gateway, stack: Stack) -> AsyncIterator[BookingRuntime]:
    """Booking, which turns a referral on kith.partners.v1 into a request."""
    runtime = BookingRuntime(
        gateway.settings,
        database_url=fresh_database(stack.database_url, "booking"),
        group_id=f"test-booking-{uuid.uuid4()}",
    )
    await runtime.start()
    try:
        await asyncio.wait_for(runtime.ready(), timeout=60)
        await asyncio.wait_for(runtime.consuming(), timeout=60)
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
def librdkafka(stack: Stack) -> Iterator[tuple[Producer, Consumer]]:
    # The connection's own librdkafka entries: with a SASL user and TLS in production.
    connection = KafkaConnection(stack.bootstrap).librdkafka()
    producer = Producer({**connection, "enable.idempotence": False})
    # Small timeouts: a group join on the embedded broker waits for the whole rebalance.
    consumer = Consumer(
        {
            **connection,
            "group.id": f"partner-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            "max.poll.interval.ms": 10000,
            "fetch.wait.max.ms": 10,
        }
    )
    try:
        yield producer, consumer
    finally:
        consumer.close()
        producer.flush(5)


def _referral_json(partner_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A referral written by hand, as a partner without Kith's Python contracts would."""
    neighbourhood, cell = random_place()
    data = {
        "referral_id": str(uuid.uuid4()),
        "partner_id": partner_id,
        "partner_reference": "VC-77",
        "first_name": "Maud",
        "neighbourhood": neighbourhood,
        "cell": cell,
        "skill": "shopping",
        "starts_at": future_hour(days=3).isoformat(),
        "hours": 2,
        "occurrences": 1,
        "consent": {
            "given_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "method": "written",
            "recorded_by": "Volunteer centre desk",
        },
    }
    envelope = {
        "event_id": str(uuid.uuid4()),
        "type": "partner.person_referred",
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "volunteer-centre",
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "data": data,
    }
    return envelope, data


async def test_a_librdkafka_partner_refers_and_reads_the_request_on_its_feed(
    gateway: Gateway,
    booking: BookingRuntime,
    stack: Stack,
    librdkafka: tuple[Producer, Consumer],
) -> None:
    producer, consumer = librdkafka
    partner = await register(
        gateway.client,
        scopes={"read_streams": [REQUESTS.name], "send": [PersonReferred.TYPE]},
    )
    envelope, data = _referral_json(partner["partner_id"])
    correlation = uuid.UUID(envelope["correlation_id"])
    consumer.subscribe([partner["feed_topic"]])
    async with Reader(stack.bootstrap, PARTNERS.name, REQUESTS.name) as reader:
        value = json.dumps(envelope).encode()
        # Signed by hand, as a partner without Kith's SDK does (README): HMAC-SHA256 under
        # the SHA-256 of the API key, over "<partner id>.<value>".
        signing_key = hashlib.sha256(partner["api_key"].encode()).digest()
        digest = hmac.new(signing_key, partner["partner_id"].encode() + b"." + value, "sha256")
        signature = "v1," + base64.b64encode(digest.digest()).decode()
        producer.produce(
            PARTNERS_INBOX.name,
            value=value,
            key=partner["partner_id"].encode(),
            headers=[("kith-partner-signature", signature.encode())],
        )
        assert await asyncio.to_thread(producer.flush, 10) == 0

        async def canonical() -> PersonReferred | None:
            for event in reader.events(PARTNERS.name):
                if event.correlation_id == correlation and isinstance(event.data, PersonReferred):
                    return event.data
            return None

        referred = await eventually(canonical, what="the referral on kith.partners.v1")
        assert str(referred.referral_id) == data["referral_id"]

        async def requested() -> HelpRequested | None:
            for event in reader.events(REQUESTS.name):
                if event.correlation_id == correlation and isinstance(event.data, HelpRequested):
                    return event.data
            return None

        request = await eventually(
            requested, timeout_s=30, what="booking's request for the referral"
        )
    assert request.neighbourhood == data["neighbourhood"]
    assert request.hours == 2

    seen: list[dict[str, Any]] = []

    async def on_feed() -> dict[str, Any] | None:
        message = await asyncio.to_thread(consumer.poll, 0.2)
        value = None if message is None or message.error() else message.value()
        if value:
            seen.append(json.loads(value))
        return next(
            (m for m in seen if m["data"].get("request_id") == str(request.request_id)), None
        )

    mine = await eventually(on_feed, timeout_s=40, what="the request on the partner's feed")
    assert mine["type"] == "help.requested"
    assert "neighbour_id" not in mine["data"]
    assert "cell" not in mine["data"]
