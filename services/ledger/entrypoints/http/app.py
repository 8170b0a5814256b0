"""The ledger's FastAPI app: its routers and how its errors read (RFC 9457 problems)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.ledger.adapters.sessions import BookingUnavailable
from services.ledger.domain.postings import Unbalanced
from services.ledger.entrypoints.http import (
    routes_expenses,
    routes_me,
    routes_operator,
    routes_payments,
)
from services.ledger.entrypoints.http.deps import Parts
from services.ledger.service_layer.ports import NotFound, PaymentProvider, ProviderError, Refused
from shared.http_limits import BodySizeLimit
from shared.problems import install_problem_handlers, problem


async def _not_found(_: Request, error: Exception) -> JSONResponse:
    return problem(404, "Not found", str(error))


async def _refused(_: Request, error: Exception) -> JSONResponse:
    return problem(409, "Conflict", str(error))


async def _unbalanced(_: Request, error: Exception) -> JSONResponse:
    return problem(422, "Unbalanced posting", str(error))


async def _provider(_: Request, error: Exception) -> JSONResponse:
    return problem(502, "Payment provider", str(error))


async def _unavailable(_: Request, error: Exception) -> JSONResponse:
    return problem(
        503,
        "Service unavailable",
        f"booking could not check the token: {error}",
        headers={"Retry-After": "2"},
    )


def create_app(
    parts: Parts,
    *,
    max_body_bytes: int,
    receipt_max_bytes: int,
    provider: PaymentProvider | None = None,
    webhook_secret: str | None = None,
    webhook_tolerance_s: int = 300,
) -> FastAPI:
    """The ledger's API over ``parts``; payments need a ``provider`` and webhooks its
    ``webhook_secret``."""
    app = _api()
    app.state.parts = parts
    app.state.receipt_max_bytes = receipt_max_bytes
    app.state.provider = provider
    app.state.webhook_secret = webhook_secret
    app.state.webhook_tolerance_s = webhook_tolerance_s
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    return app


def api_document() -> dict[str, Any]:
    """The OpenAPI document, without a database or a running server (``kith openapi
    --service ledger``; the web app's ledger client is generated from it)."""
    return _api().openapi()


def _api() -> FastAPI:
    """The routes, their documentation and how their errors read."""
    app = FastAPI(title="Kith ledger", version="1.0.0", docs_url="/docs")
    install_problem_handlers(app)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(Unbalanced, _unbalanced)
    app.add_exception_handler(BookingUnavailable, _unavailable)
    app.add_exception_handler(ProviderError, _provider)
    app.include_router(routes_me.router)
    app.include_router(routes_operator.router)
    app.include_router(routes_expenses.router)
    app.include_router(routes_payments.router)
    return app
