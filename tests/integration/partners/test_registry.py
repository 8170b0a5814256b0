"""Operators register partners: the key is shown once and kept hashed, scopes are checked,
the feed exists, and a partner's service is announced (and withdrawn) on kith.partners.v1."""

from __future__ import annotations

import hashlib
import uuid

from aiokafka.admin import AIOKafkaAdminClient

from shared.contracts.partners import PartnerServiceChanged
from shared.contracts.topics import PARTNERS
from tests.conftest import Stack
from tests.integration.partners.conftest import OPERATOR, Gateway
from tests.integration.partners.support import Reader, bearer, random_place, register
from tests.support import eventually


async def test_the_key_is_shown_once_and_stored_only_as_its_hash(
    gateway: Gateway, stack: Stack
) -> None:
    partner = await register(gateway.client, scopes={"read_streams": ["kith.requests.v1"]})
    key, partner_id = partner["api_key"], partner["partner_id"]
    assert key.startswith("kith_pk_")
    assert len(key) > 40
    assert partner["webhook_secret"].startswith("whsec_")

    shown = await gateway.client.get(f"/v1/partners/{partner_id}", headers=OPERATOR)
    assert shown.status_code == 200
    assert key not in shown.text
    assert "api_key" not in shown.json()
    assert shown.json()["key_hint"] == key[:12] + "…"

    async with gateway.runtime.pool.acquire() as conn:  # the raw row, not the API
        row = await conn.fetchrow(
            "SELECT * FROM partners WHERE partner_id = $1", uuid.UUID(partner_id)
        )
    assert row is not None
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert all(key not in str(value) for value in row.values())

    me = await gateway.client.get("/v1/me", headers=bearer(partner))
    assert me.status_code == 200
    assert me.json()["partner_id"] == partner_id
    assert "neighbour_id" not in me.json()["scopes"]["fields"]["help.requested"]

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    try:
        assert partner["feed_topic"] in await admin.list_topics()
    finally:
        await admin.close()


async def test_private_streams_and_never_shown_fields_are_refused_with_the_field(
    gateway: Gateway,
) -> None:
    for scopes, field in (
        ({"read_streams": ["kith.checkins.v1"]}, "scopes.read_streams"),
        ({"read_streams": ["kith.partners.inbox.v1"]}, "scopes.read_streams"),
        (
            {"fields": {"welfare.check_requested": ["note"]}},
            "scopes.fields.welfare.check_requested",
        ),
        ({"send": ["booking.confirmed"]}, "scopes.send"),
    ):
        response = await gateway.client.post(
            "/v1/partners", json={"name": "Nosy", "scopes": scopes}, headers=OPERATOR
        )
        assert response.status_code == 422, scopes
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field


async def test_only_operators_manage_partners(gateway: Gateway) -> None:
    partner = await register(gateway.client)
    assert (await gateway.client.get("/v1/partners")).status_code == 401
    as_partner = await gateway.client.get("/v1/partners", headers=bearer(partner))
    assert as_partner.status_code == 403
    assert (await gateway.client.get("/v1/me", headers=OPERATOR)).status_code == 401


async def test_a_service_is_announced_changed_and_withdrawn_under_one_helper_id(
    gateway: Gateway, stack: Stack
) -> None:
    first, _ = random_place()
    second, _ = random_place()
    async with Reader(stack.bootstrap, PARTNERS.name) as reader:
        partner = await register(
            gateway.client, service={"skills": ["lift"], "neighbourhoods": [first]}
        )
        partner_id = uuid.UUID(partner["partner_id"])
        assert "partner.offer_answered" in partner["scopes"]["send"]
        helper_id = partner["service"]["helper_id"]

        changed = await gateway.client.patch(
            f"/v1/partners/{partner_id}",
            json={"service": {"skills": ["lift", "shopping"], "neighbourhoods": [second]}},
            headers=OPERATOR,
        )
        assert changed.status_code == 200
        assert changed.json()["service"]["helper_id"] == helper_id
        gone = await gateway.client.delete(f"/v1/partners/{partner_id}", headers=OPERATOR)
        assert gone.json()["active"] is False

        def announcements() -> list[PartnerServiceChanged]:
            return [
                e.data
                for e in reader.events(PARTNERS.name)
                if isinstance(e.data, PartnerServiceChanged) and e.data.partner_id == partner_id
            ]

        async def three() -> list[PartnerServiceChanged] | None:
            found = announcements()
            return found if len(found) >= 3 else None

        events = await eventually(three, what="three service announcements")
    assert [str(e.helper_id) for e in events] == [helper_id] * 3
    assert [e.neighbourhoods for e in events[:2]] == [[first], [second]]
    assert [e.active for e in events] == [True, True, False]
    assert (await gateway.client.get("/v1/me", headers=bearer(partner))).status_code == 401


async def test_the_api_is_published_and_scopes_can_be_changed(gateway: Gateway) -> None:
    document = (await gateway.client.get("/openapi.json")).json()
    assert {"/v1/partners", "/v1/me", "/v1/events", "/v1/rejections", "/v1/deliveries"} <= set(
        document["paths"]
    )
    partner = await register(
        gateway.client,
        scopes={"read_streams": ["kith.requests.v1"]},
        webhook_url="http://127.0.0.1:9/hook",
    )
    changed = await gateway.client.patch(
        f"/v1/partners/{partner['partner_id']}",
        json={
            "scopes": {
                "read_streams": ["kith.bookings.v1"],
                "fields": {"booking.confirmed": ["booking_id", "helper_id"]},
            },
            "webhook_url": None,
        },
        headers=OPERATOR,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["scopes"]["read_streams"] == ["kith.bookings.v1"]
    assert body["scopes"]["fields"]["booking.confirmed"] == ["booking_id", "helper_id"]
    assert body["webhook_url"] is None
    refused = await gateway.client.patch(
        f"/v1/partners/{partner['partner_id']}",
        json={"scopes": {"read_streams": ["kith.concerns.v1"]}},
        headers=OPERATOR,
    )
    assert refused.status_code == 422
    missing = await gateway.client.get(f"/v1/partners/{uuid.uuid4()}", headers=OPERATOR)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
