"""The webhook sender calls only allowed addresses, and no answer holds it for long or fills
its memory. Each test talks to a real HTTP server on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from services.partners.adapters.webhook_client import (
    HttpxWebhookSender,
    RefusedTarget,
    ResponseTooLarge,
)
from services.partners.domain.webhook_targets import TargetPolicy, networks
from tests.integration.partners.receiver import Receiver, receiving

LOOPBACK_ALLOWED = TargetPolicy(allow_http=True, allowed_networks=networks(["127.0.0.0/8"]))
TIMEOUT_S = 1.0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as running:
        yield running


@pytest.fixture
async def sender() -> AsyncIterator[HttpxWebhookSender]:
    client = HttpxWebhookSender(
        timeout_s=TIMEOUT_S, max_response_bytes=1024, policy=LOOPBACK_ALLOWED
    )
    yield client
    await client.close()


async def test_an_allowed_receiver_gets_the_post(
    sender: HttpxWebhookSender, receiver: Receiver
) -> None:
    receiver.answer_bytes = 1024  # exactly the cap is fine
    assert await sender.post(receiver.url, b"{}", {"Content-Type": "application/json"}) == 200
    assert [r.body for r in receiver.requests] == [b"{}"]


async def test_loopback_and_private_addresses_are_refused_unless_allowed(
    receiver: Receiver,
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    strict = HttpxWebhookSender(
        timeout_s=TIMEOUT_S, max_response_bytes=1024, policy=TargetPolicy(allow_http=True)
    )
    try:
        for url in (
            receiver.url,  # 127.0.0.1
            f"http://localhost:{port}/hook",  # a name that resolves to loopback
            f"http://[::ffff:127.0.0.1]:{port}/hook",
            "http://192.168.1.1/hook",
            "http://169.254.169.254/latest/meta-data",
        ):
            with pytest.raises(RefusedTarget):
                await strict.post(url, b"{}", {})
    finally:
        await strict.close()
    assert receiver.requests == [], "nothing reached the receiver"


async def test_plain_http_is_refused_outside_development(receiver: Receiver) -> None:
    https_only = HttpxWebhookSender(
        timeout_s=TIMEOUT_S,
        max_response_bytes=1024,
        policy=TargetPolicy(allowed_networks=networks(["127.0.0.0/8"])),
    )
    try:
        with pytest.raises(RefusedTarget, match="https"):
            await https_only.post(receiver.url, b"{}", {})
    finally:
        await https_only.close()
    assert receiver.requests == []


async def test_an_oversized_answer_is_cut(sender: HttpxWebhookSender, receiver: Receiver) -> None:
    receiver.answer_bytes = 5 * 1024 * 1024
    with pytest.raises(ResponseTooLarge):
        await sender.post(receiver.url, b"{}", {})


async def test_a_slow_answer_is_cut_at_the_total_timeout(
    sender: HttpxWebhookSender, receiver: Receiver
) -> None:
    # A byte every 0.1 s never trips a per-read timeout; only a total one stops it.
    receiver.drip_s = 0.1
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await sender.post(receiver.url, b"{}", {})
    assert time.monotonic() - started < TIMEOUT_S + 5, "cut near the timeout, not hours later"
