"""Webhooks: signed, retried with backoff, in order per key (other keys carry on), and every
attempt in the partner's delivery log. The receiver is a real HTTP server on a free port."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from kith_partner import verify_webhook
from shared.contracts import Envelope
from tests.integration.partners.conftest import Gateway
from tests.integration.partners.receiver import Receiver, receiving
from tests.integration.partners.support import bearer, random_place, register
from tests.integration.partners.test_projector import _request
from tests.support import eventually


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as running:
        yield running


async def test_webhooks_are_signed_retried_in_order_per_key_and_logged(
    gateway: Gateway, receiver: Receiver
) -> None:
    partner = await register(
        gateway.client,
        scopes={"read_streams": ["kith.requests.v1"]},
        webhook_url=receiver.url,
    )
    here, cell = random_place()
    there, there_cell = random_place()
    first, second = _request(here, cell), _request(here, cell)  # one key: neighbourhood `here`
    other = _request(there, there_cell)
    receiver.hold, receiver.release = str(first.request_id), str(other.request_id)
    for request in (first, second, other):
        await gateway.publisher.publish(Envelope.wrap(request, producer="booking"))

    mine = {str(r.request_id) for r in (first, second, other)}

    async def all_delivered() -> bool:
        # The feed may carry other tests' requests too: count only these three.
        return mine <= set(receiver.delivered())

    await eventually(all_delivered, what="three deliveries")
    order = receiver.delivered()
    assert order.index(str(other.request_id)) < order.index(str(first.request_id)), (
        "another key is delivered while the first key is held"
    )
    assert order.index(str(first.request_id)) < order.index(str(second.request_id))
    assert receiver.attempts_of(str(second.request_id)) == [200], (
        "nothing later of a held key is attempted"
    )
    statuses = receiver.attempts_of(str(first.request_id))
    assert statuses[-1] == 200
    assert len(statuses) >= 2
    assert set(statuses[:-1]) == {503}

    for received in receiver.requests:
        headers, body = received.headers, received.body
        assert verify_webhook(
            partner["webhook_secret"],
            headers["kith-timestamp"],
            body,
            headers["kith-signature"],
        )
        assert headers["kith-event-id"] == json.loads(body)["event_id"]
        assert "neighbour_id" not in json.loads(body)["data"]

    event_id = next(
        r.headers["kith-event-id"]
        for r in receiver.requests
        if r.request_id == str(first.request_id)
    )
    log = (await gateway.client.get("/v1/deliveries", headers=bearer(partner))).json()
    tries = sorted((a for a in log if a["event_id"] == event_id), key=lambda a: a["attempt"])
    assert [a["attempt"] for a in tries] == list(range(1, len(statuses) + 1))
    assert [a["outcome"] for a in tries] == ["retrying"] * (len(statuses) - 1) + ["delivered"]
    assert all(a["status_code"] == 503 and a["next_attempt_at"] for a in tries[:-1])
    assert tries[-1]["status_code"] == 200


async def test_a_delivery_that_keeps_failing_is_abandoned_and_the_key_moves_on(
    gateway: Gateway, receiver: Receiver
) -> None:
    partner = await register(
        gateway.client,
        scopes={"read_streams": ["kith.requests.v1"]},
        webhook_url=receiver.url,
    )
    here, cell = random_place()
    doomed, after = _request(here, cell), _request(here, cell)
    receiver.hold, receiver.release = str(doomed.request_id), str(uuid.uuid4())  # never
    for request in (doomed, after):
        await gateway.publisher.publish(Envelope.wrap(request, producer="booking"))

    async def moved_on() -> bool:
        return str(after.request_id) in receiver.delivered()

    await eventually(moved_on, what="the next delivery of the key")
    attempts = gateway.settings.webhook_max_attempts
    assert receiver.attempts_of(str(doomed.request_id)) == [503] * attempts
    log = (await gateway.client.get("/v1/deliveries", headers=bearer(partner))).json()
    assert [a["outcome"] for a in log].count("abandoned") == 1
