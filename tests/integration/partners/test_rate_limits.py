"""The partner API is rate-limited per client address and per partner (429 with Retry-After),
with the counters in the gateway's PostgreSQL so every gateway process shares them."""

from __future__ import annotations

import dataclasses
import uuid

import httpx

from services.partners.entrypoints.http.app import create_app
from tests.integration.partners.conftest import OPERATOR, Gateway


def _client(gateway: Gateway, address: str, **rates: str) -> httpx.AsyncClient:
    """A client on a second app over the same gateway and database, with these limits."""
    context = gateway.runtime.app().state.context
    settings = gateway.settings.model_copy(update=rates)
    app = create_app(dataclasses.replace(context, settings=settings))
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://partners.test")


async def _register(gateway: Gateway) -> dict[str, str]:
    made = await gateway.client.post(
        "/v1/partners", headers=OPERATOR, json={"name": f"Partner {uuid.uuid4().hex[:6]}"}
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['api_key']}"}


async def test_the_partner_api_is_limited_per_partner_and_per_address(gateway: Gateway) -> None:
    one, two = await _register(gateway), await _register(gateway)
    rates = {"rate_partner_api_per_account": "3/600", "rate_partner_api_per_address": "4/600"}
    first, second = _client(gateway, "10.20.0.1", **rates), _client(gateway, "10.20.0.2", **rates)
    assert (await first.get("/v1/me", headers=one)).status_code == 200
    assert (await second.get("/v1/me", headers=one)).status_code == 200
    assert (await first.get("/v1/rejections", headers=one)).status_code == 200
    refused = await second.get("/v1/me", headers=one)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    # Another partner from the first address: the address has room for two more.
    assert (await first.get("/v1/me", headers=two)).status_code == 200
    assert (await first.get("/v1/me", headers=two)).status_code == 200
    assert (await first.get("/v1/me", headers=two)).status_code == 429
    assert (await second.get("/v1/me", headers=two)).status_code == 200
    # A wrong key counts against its address too: guessing keys is limited.
    guesser = _client(gateway, "10.20.0.3", **rates)
    codes = [
        (await guesser.get("/v1/me", headers={"Authorization": f"Bearer guess-{n}"})).status_code
        for n in range(5)
    ]
    assert codes == [401] * 4 + [429]
    for client in (first, second, guesser):
        await client.aclose()
