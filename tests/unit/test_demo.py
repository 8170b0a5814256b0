"""The demo reports the relationship only once trust holds both the visit and the answers,
which reach trust on different topics and so in either order."""

from __future__ import annotations

from typing import Any

import httpx

from kith.demo import Person, _relationship

NEIGHBOUR = Person("Mrs Okafor", "n-1", "token-n")
HELPER = Person("Sam", "h-1", "token-h")


def _api(record: dict[str, Any]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/operator/relationships"
        return httpx.Response(200, json={"items": [record], "next_offset": None})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://kith.test")


async def test_answers_heard_before_the_visit_are_not_yet_the_relationship() -> None:
    answers_only = {"helper_id": "h-1", "both_want_again": True, "visits": 0, "stage": "introduced"}
    async with _api(answers_only) as http:
        assert await _relationship(http, {}, NEIGHBOUR, HELPER) is None


async def test_the_visit_and_both_answers_are_the_relationship() -> None:
    both = {"helper_id": "h-1", "both_want_again": True, "visits": 1, "stage": "first_visit"}
    async with _api(both) as http:
        assert await _relationship(http, {}, NEIGHBOUR, HELPER) == both
