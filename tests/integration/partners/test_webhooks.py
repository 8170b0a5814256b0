"""Webhooks: signed to the Standard Webhooks scheme, retried with backoff, in order per key
(other keys carry on), every attempt in the partner's delivery log; secrets rotate without a
gap; only allowed addresses are called. The receiver is a real HTTP server on a free port
that verifies each request with the ``standardwebhooks`` package."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from kith_partner import verify_webhook
from shared.contracts import Envelope
from tests.integration.partners.conftest import OPERATOR, Gateway
from tests.integration.partners.receiver import Receiver, receiving
from tests.integration.partners.support import bearer, help_requested, random_place, register
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
    receiver.secret = partner["webhook_secret"]
    here, cell = random_place()
    there, there_cell = random_place()
    first, second = (
        help_requested(here, cell),
        help_requested(here, cell),
    )  # one key: neighbourhood `here`
    other = help_requested(there, there_cell)
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
        assert received.verified, "the receiver verified it with standardwebhooks"
        assert verify_webhook(partner["webhook_secret"], body, headers) == json.loads(body)
        assert headers["webhook-id"] == json.loads(body)["event_id"]
        assert "neighbour_id" not in json.loads(body)["data"]

    event_id = next(
        r.headers["webhook-id"] for r in receiver.requests if r.request_id == str(first.request_id)
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
    doomed, after = help_requested(here, cell), help_requested(here, cell)
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


async def test_a_rotated_secret_signs_beside_the_old_one_for_the_window(
    gateway: Gateway, receiver: Receiver
) -> None:
    partner = await register(
        gateway.client,
        scopes={"read_streams": ["kith.requests.v1"]},
        webhook_url=receiver.url,
    )
    old = partner["webhook_secret"]
    answer = await gateway.client.post(
        f"/v1/partners/{partner['partner_id']}/webhook-secret", headers=OPERATOR
    )
    assert answer.status_code == 201
    new = answer.json()["webhook_secret"]
    assert new != old
    assert new.startswith("whsec_")
    assert answer.json()["previous_valid_until"]

    receiver.secret = old  # a receiver not yet switched over still verifies
    here, cell = random_place()
    request = help_requested(here, cell)
    await gateway.publisher.publish(Envelope.wrap(request, producer="booking"))

    async def delivered() -> bool:
        return str(request.request_id) in receiver.delivered()

    await eventually(delivered, what="the delivery after the rotation")
    (received,) = [r for r in receiver.requests if r.request_id == str(request.request_id)]
    assert received.verified
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verify_webhook(new, received.body, received.headers)


async def test_a_webhook_url_that_is_not_public_https_is_refused_at_registration(
    gateway: Gateway,
) -> None:
    for url, reason in (
        ("https://10.1.2.3/hook", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://[::ffff:192.168.0.1]/hook", "not a public address"),
    ):
        answer = await gateway.client.post(
            "/v1/partners",
            headers=OPERATOR,
            json={"name": "Nosy", "scopes": {"read_streams": []}, "webhook_url": url},
        )
        assert answer.status_code == 422, url
        (error,) = answer.json()["errors"]
        assert error["field"] == "webhook_url"
        assert reason in error["reason"]
