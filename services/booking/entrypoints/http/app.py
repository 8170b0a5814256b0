"""The FastAPI application: routes, problem details, health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.booking.adapters.notices import NoticeBoard
from services.booking.domain.credentials import Passwords
from services.booking.entrypoints.http import (
    ledger_forward,
    routes_account,
    routes_auth,
    routes_concerns,
    routes_internal,
    routes_notices,
    routes_notifications,
    routes_operator,
    routes_operator_accounts,
    routes_operator_people,
    routes_operator_queues,
    routes_operator_requests,
    routes_people,
    routes_visits,
    web_app,
)
from services.booking.entrypoints.http.dependencies import Context
from services.booking.entrypoints.http.problems import PROBLEM_RESPONSES, install_problem_handlers
from services.booking.service_layer.ports import Sessions, UnitOfWork
from shared.http_limits import BodySizeLimit
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings


def create_app(
    uow: UnitOfWork,
    settings: Settings,
    notices: NoticeBoard,
    sessions: Sessions,
    *,
    passwords: Passwords,
    idempotency_secret: bytes,
    limiter: RateLimiter,
) -> FastAPI:
    """The booking API over an already started runtime (the caller owns its life), with the
    web app at ``/app/``."""
    app = _api()
    app.state.context = Context(
        uow=uow,
        settings=settings,
        notices=notices,
        sessions=sessions,
        passwords=passwords,
        idempotency_secret=idempotency_secret,
        limiter=limiter,
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.http_max_body_bytes,
        # A receipt photo is larger than anything booking's own API takes.
        larger={
            f"{ledger_forward.PREFIX}/v1/me/ledger/expenses": ledger_forward.receipt_body_cap(
                settings
            )
        },
    )
    ledger_forward.install(app, settings)
    web_app.mount(app, settings.web_app_dir or web_app.BUILT)
    return app


def api_document() -> dict[str, Any]:
    """The OpenAPI document, without a database or a running server (``kith openapi``)."""
    return _api().openapi()


def _api() -> FastAPI:
    """The routes, their documentation and their problems: what every client sees."""
    app = FastAPI(
        title="Kith booking",
        version="1.0.0",
        description="Neighbourhood help, booked in whole hours. Errors are RFC 9457 problems.",
        responses=PROBLEM_RESPONSES,
    )
    install_problem_handlers(app)
    # Requests are matched against the routes in this order: the busiest (requests, offers,
    # bookings) first, so that an accept is not first compared with every other route.
    app.include_router(routes_visits.router)
    app.include_router(routes_people.router)
    app.include_router(routes_operator.router)
    app.include_router(routes_operator_accounts.router)
    app.include_router(routes_operator_queues.router)
    app.include_router(routes_operator_people.router)
    app.include_router(routes_operator_requests.router)
    app.include_router(routes_concerns.router)
    app.include_router(routes_notices.router)
    app.include_router(routes_account.router)
    app.include_router(routes_auth.router)
    app.include_router(routes_internal.router)
    app.include_router(routes_notifications.router)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness: answers without authentication."""
        return {"status": "ok"}

    return app
