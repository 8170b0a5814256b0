"""The inbox: a partner's valid message becomes a canonical event once; anything else is
dead-lettered with the reason, and the partner can read why. A message proves its sender by a
signature over it (``kith-partner-signature``); an API key in a header is refused."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from prometheus_client import REGISTRY

from shared import metrics
from shared.contracts import Envelope, encode
from shared.contracts.inbox_signature import (
    CLEAR_KEY_HEADER,
    SIGNATURE_HEADER,
    sign_inbox_message,
    signing_key,
)
from shared.contracts.partners import PersonReferred
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.topics import DEAD_LETTERS, PARTNERS, PARTNERS_INBOX, VETTING
from shared.contracts.trust import VettingStepRecorded
from shared.messaging import read_dead_letter
from tests.conftest import Stack
from tests.integration.partners.conftest import Gateway
from tests.integration.partners.support import Reader, bearer, random_place, referral, register
from tests.support import eventually


@pytest.fixture(scope="module")
async def producer(stack: Stack) -> Any:
    raw = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await raw.start()
    try:
        yield raw
    finally:
        await raw.stop()


async def _send(
    producer: AIOKafkaProducer,
    value: bytes,
    partner: dict[str, Any] | None,
    *,
    api_key: str | None = None,
    clear_key: bool = False,
) -> None:
    """Send ``value`` keyed by the partner's id, signed with ``api_key`` (the partner's own
    by default); or with the key itself in a header, as older clients did."""
    partner_id = str(partner["partner_id"]) if partner else str(uuid.uuid4())
    key = api_key or (partner["api_key"] if partner else None)
    headers: list[tuple[str, bytes]] = []
    if clear_key and key:
        headers.append((CLEAR_KEY_HEADER, key.encode()))
    elif key:
        signature = sign_inbox_message(signing_key(key), partner_id, value)
        headers.append((SIGNATURE_HEADER, signature.encode()))
    await producer.send_and_wait(
        PARTNERS_INBOX.name, value=value, key=partner_id.encode(), headers=headers
    )


async def test_a_valid_referral_becomes_one_canonical_event_even_if_sent_twice(
    gateway: Gateway, stack: Stack, producer: AIOKafkaProducer
) -> None:
    partner = await register(gateway.client, scopes={"send": ["partner.person_referred"]})
    sent = Envelope.wrap(referral(partner["partner_id"]), producer="surgery")
    # Sent after the duplicate on the same partition: once it is out, the duplicate was handled.
    sentinel = Envelope.wrap(referral(partner["partner_id"]), producer="surgery")
    async with Reader(stack.bootstrap, PARTNERS.name) as reader:
        for envelope in (sent, sent, sentinel):
            await _send(producer, encode(envelope), partner)

        def caused_by(event_id: uuid.UUID) -> list[Envelope[Any]]:
            return [e for e in reader.events() if e.causation_id == event_id]

        async def sentinel_out() -> list[Envelope[Any]] | None:
            return caused_by(sentinel.event_id) or None

        await eventually(sentinel_out, what="the referral sent after the duplicate")
        [event] = caused_by(sent.event_id)
    assert event.producer == "partners"
    assert event.event_id != sent.event_id
    assert event.correlation_id == sent.correlation_id
    assert event.data == sent.data
    again = await gateway.client.post("/v1/events", content=encode(sent), headers=bearer(partner))
    assert again.status_code == 202
    assert again.json()["event_id"] == str(event.event_id), "a resend answers with the same event"


def _carries(value: bytes, record: ConsumerRecord[bytes, bytes]) -> bool:
    return bool(record.value == value)


def _dead_letters_counted() -> float:
    labels = {"service": metrics.service_name(), "topic": PARTNERS_INBOX.name, "reason": "rejected"}
    return REGISTRY.get_sample_value("kith_dead_letters_total", labels) or 0.0


async def test_invalid_messages_are_dead_lettered_with_the_reason_and_shown_to_the_partner(
    gateway: Gateway, stack: Stack, producer: AIOKafkaProducer
) -> None:
    partner = await register(gateway.client, scopes={"send": ["partner.person_referred"]})
    other = await register(gateway.client, scopes={"send": []})

    def not_mine() -> bytes:
        return encode(Envelope.wrap(referral(uuid.uuid4()), producer="surgery"))

    unknown = json.loads(encode(Envelope.wrap(referral(partner["partner_id"]), producer="x")))
    unknown["type"] = "partner.gossip_shared"
    unscoped = Envelope.wrap(referral(other["partner_id"]), producer="other")
    # name: (value, sender, how it is signed, the reason expected)
    cases: dict[str, tuple[bytes, dict[str, Any] | None, dict[str, Any], str]] = {
        "json": (b"{not json " + uuid.uuid4().bytes.hex().encode(), partner, {}, "not JSON"),
        "unknown": (json.dumps(unknown).encode(), partner, {}, "unknown event type"),
        "wrong": (not_mine(), partner, {}, "is not yours"),
        "scope": (encode(unscoped), other, {}, "do not allow sending"),
        "anonymous": (not_mine(), None, {}, "no kith-partner-signature"),
        "forged": (not_mine(), partner, {"api_key": "kith_pk_guess"}, "does not match"),
        "clear key": (not_mine(), partner, {"clear_key": True}, "in clear"),
    }
    refused_before = _dead_letters_counted()
    async with Reader(stack.bootstrap, DEAD_LETTERS.name) as reader:
        for value, sender, how, _ in cases.values():
            await _send(producer, value, sender, **how)
        for name, (value, _, _, reason) in cases.items():
            record = await reader.wait_for(
                functools.partial(_carries, value), what=f"the dead letter of {name!r}"
            )
            letter = read_dead_letter(record)
            assert reason in letter.reason, (name, letter.reason)
            assert letter.topic == PARTNERS_INBOX.name
            assert letter.consumer == "partners-inbox"
            # A partner's key never lands where operators' tools read.
            assert all(k != CLEAR_KEY_HEADER for k, _ in record.headers or ())
            assert partner["api_key"].encode() not in b"".join(v for _, v in record.headers)
    # The inbox runs on the shared consumer loop, so its refusals are counted like any other.
    assert _dead_letters_counted() - refused_before >= len(cases)

    mine = (await gateway.client.get("/v1/rejections", headers=bearer(partner))).json()
    reasons = " | ".join(r["reason"] for r in mine)
    assert "not JSON" in reasons
    assert "unknown event type 'partner.gossip_shared'" in reasons
    assert "is not yours" in reasons
    assert {r["source"] for r in mine} == {"kafka"}
    assert all(r["offset"] is not None for r in mine)
    assert "do not allow" not in reasons, "another partner's refusal is not shown"
    theirs = (await gateway.client.get("/v1/rejections", headers=bearer(other))).json()
    assert [r["event_id"] for r in theirs] == [str(unscoped.event_id)]
    assert theirs[0]["type"] == PersonReferred.TYPE


async def test_http_sending_checks_the_same_way(gateway: Gateway) -> None:
    partner = await register(gateway.client, scopes={"send": ["partner.person_referred"]})
    valid = Envelope.wrap(referral(partner["partner_id"]), producer="surgery")
    accepted = await gateway.client.post(
        "/v1/events", content=encode(valid), headers=bearer(partner)
    )
    assert accepted.status_code == 202
    assert accepted.json()["topic"] == PARTNERS.name

    wrong = Envelope.wrap(referral(uuid.uuid4()), producer="surgery")
    refused = await gateway.client.post(
        "/v1/events", content=encode(wrong), headers=bearer(partner)
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "is not yours" in refused.json()["detail"]
    [rejection] = (await gateway.client.get("/v1/rejections", headers=bearer(partner))).json()
    assert rejection["source"] == "http"
    assert rejection["event_id"] == str(wrong.event_id)
    anonymous = await gateway.client.post("/v1/events", content=encode(valid))
    assert anonymous.status_code == 401

    _, elsewhere = random_place()
    misplaced = Envelope.wrap(referral(partner["partner_id"], cell=elsewhere), producer="gp")
    refused = await gateway.client.post(
        "/v1/events", content=encode(misplaced), headers=bearer(partner)
    )
    assert refused.status_code == 422
    assert "does not lie in" in refused.json()["detail"]


async def test_a_partner_attests_a_vetting_step_on_the_vetting_stream(
    gateway: Gateway, stack: Stack
) -> None:
    partner = await register(gateway.client, scopes={"send": ["vetting.step_recorded"]})
    person = uuid.uuid4()
    step = VettingStepRecorded(
        person_id=person,
        step=VettingStep.BACKGROUND_CHECK,
        recorded_by=f"partner:{partner['partner_id']}",
        skills_offered=[Skill.LIFT],
    )
    async with Reader(stack.bootstrap, VETTING.name) as reader:
        sent = await gateway.client.post(
            "/v1/events",
            content=encode(Envelope.wrap(step, producer="charity")),
            headers=bearer(partner),
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["topic"] == VETTING.name

        async def recorded() -> VettingStepRecorded | None:
            for event in reader.events(VETTING.name):
                if isinstance(event.data, VettingStepRecorded) and event.data.person_id == person:
                    return event.data
            return None

        published = await eventually(recorded, what="the attested step on kith.vetting.v1")
    assert published == step
    posing = step.model_copy(update={"recorded_by": "operator:alice"})
    refused = await gateway.client.post(
        "/v1/events",
        content=encode(Envelope.wrap(posing, producer="charity")),
        headers=bearer(partner),
    )
    assert refused.status_code == 422
    assert "recorded_by must be" in refused.json()["detail"]
