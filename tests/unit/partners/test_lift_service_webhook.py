"""The example partner's webhook receiver believes only what Kith signed, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from examples.lift_service.webhook import webhook_app
from services.partners.domain.keys import new_webhook_secret
from services.partners.service_layer.signing import signature_headers

BODY = json.dumps({"event_id": "e1", "type": "booking.confirmed", "data": {}}).encode()


async def test_only_signed_fresh_webhooks_are_read_and_each_once() -> None:
    secret = new_webhook_secret()
    events: list[dict[str, Any]] = []
    transport = httpx.ASGITransport(app=webhook_app([secret], events.append))
    async with httpx.AsyncClient(transport=transport, base_url="http://lifts.test") as client:
        signed = signature_headers([secret], "e1", datetime.now(UTC), BODY)
        assert (await client.post("/kith", content=BODY, headers=signed)).status_code == 204
        assert (await client.post("/kith", content=BODY, headers=signed)).status_code == 204
        forged = signature_headers([new_webhook_secret()], "e2", datetime.now(UTC), BODY)
        assert (await client.post("/kith", content=BODY, headers=forged)).status_code == 401
        stale = signature_headers([secret], "e3", datetime.now(UTC) - timedelta(hours=1), BODY)
        assert (await client.post("/kith", content=BODY, headers=stale)).status_code == 401
    assert events == [json.loads(BODY)], "read once, and nothing unsigned"
