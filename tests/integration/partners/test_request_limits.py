"""The partners API: an oversized body is a 413 problem, every input is bounded."""

from __future__ import annotations

from tests.integration.partners.conftest import OPERATOR, Gateway
from tests.support import oversized_chunks, unbounded_inputs


async def test_a_body_over_the_limit_is_refused_with_a_413_problem(gateway: Gateway) -> None:
    limit = gateway.settings.http_max_body_bytes
    for content in (b"{" + b" " * limit + b"}", oversized_chunks(limit + 1)):
        refused = await gateway.client.post(
            "/v1/partners",
            headers={**OPERATOR, "Content-Type": "application/json"},
            content=content,
        )
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert str(limit) in refused.json()["detail"]


async def test_every_text_field_and_list_a_client_sends_is_bounded(gateway: Gateway) -> None:
    document = (await gateway.client.get("/openapi.json")).json()
    assert unbounded_inputs(document) == []
    assert "413" in document["paths"]["/v1/partners"]["post"]["responses"]
