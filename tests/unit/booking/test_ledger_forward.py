"""Booking forwards the web app's ``/ledger/v1/...`` calls to the ledger (same origin, so the
app's Content-Security-Policy stays as it is), and says clearly when the ledger is down."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastapi import FastAPI

from kith.openapi import LEDGER_DOCUMENT, render
from services.booking.entrypoints.http import ledger_forward
from services.ledger.entrypoints.http.app import api_document
from shared.http_limits import BodySizeLimit
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_ledger_openapi_document_matches_the_api() -> None:
    committed = (ROOT / LEDGER_DOCUMENT).read_text(encoding="utf-8")
    assert committed == render(api_document()), (
        "web/ledger-openapi.json is stale: run `.venv/bin/kith openapi --service ledger`"
        " and rebuild the web app"
    )


def _app(handler: httpx.MockTransport | None, **settings: object) -> FastAPI:
    config = Settings(ledger_url="http://ledger.test", **settings)  # type: ignore[arg-type]
    app = FastAPI()
    app.add_middleware(
        BodySizeLimit,
        max_bytes=1024,
        larger={"/ledger/v1/me/ledger/expenses": ledger_forward.receipt_body_cap(config)},
    )
    ledger_forward.install(app, config)
    app.state.ledger_transport = handler
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://booking")


async def test_a_persons_call_reaches_the_ledger_with_their_token_and_its_answer_comes_back() -> (
    None
):
    seen: list[httpx.Request] = []

    def ledger(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            201, json={"posting_id": "p-1"}, headers={"X-Internal": "no", "Retry-After": "1"}
        )

    async with _client(_app(httpx.MockTransport(ledger))) as client:
        answer = await client.post(
            "/ledger/v1/me/ledger/gifts",
            params={"x": "1"},
            json={"community_id": "default", "hours": 1},
            headers={"Authorization": "Bearer t-1", "Cookie": "a=b", "Idempotency-Key": "k-1"},
        )
    assert answer.status_code == 201
    assert answer.json() == {"posting_id": "p-1"}
    assert answer.headers["retry-after"] == "1"
    assert "x-internal" not in answer.headers
    [request] = seen
    assert str(request.url) == "http://ledger.test/v1/me/ledger/gifts?x=1"
    assert request.headers["authorization"] == "Bearer t-1"
    assert request.headers["idempotency-key"] == "k-1"
    assert "cookie" not in request.headers
    assert json.loads(request.content) == {"community_id": "default", "hours": 1}


async def test_operators_and_the_providers_paths_are_not_forwarded() -> None:
    def ledger(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"forwarded {request.url}")

    async with _client(_app(httpx.MockTransport(ledger))) as client:
        for path in (
            "/ledger/v1/operator/ledger/communities",
            "/ledger/v1/ledger/webhooks/provider",
            "/ledger/v1/me/ledger/../../operator/ledger/communities",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_ledger_that_does_not_answer_is_a_503_problem_saying_to_try_again() -> None:
    def ledger(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with _client(_app(httpx.MockTransport(ledger))) as client:
        answer = await client.get("/ledger/v1/me/ledger", headers={"Authorization": "Bearer t"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "the ledger did not answer" in answer.json()["detail"]


async def test_a_receipt_photo_may_be_larger_than_bookings_own_bodies() -> None:
    def ledger(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"size": len(request.content)})

    photo = "A" * 5000
    async with _client(_app(httpx.MockTransport(ledger))) as client:
        taken = await client.post("/ledger/v1/me/ledger/expenses", json={"data": photo})
        refused = await client.post("/ledger/v1/me/ledger/gifts", json={"data": photo})
    assert taken.status_code == 201
    assert refused.status_code == 413
