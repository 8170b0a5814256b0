"""The console's app: sign-in, the pages, the event stream and the panels' JSON, booking's
operator API passed through as the signed-in operator, and the ledger's page.

Every ``/ops`` route but sign-in and health needs an operator: a page sends a browser to sign
in, the JSON and event-stream routes answer 401 with problem details (``context``). The routes
are in ``routes_session`` (signing in and out), ``routes_pages`` (the pages and the operator
API), ``routes_live`` (what the console reads from the streams) and ``ledger_pages``.
"""

from __future__ import annotations

import asyncio
import secrets

from fastapi import FastAPI

from services.ops.adapters.ledger_api import LedgerApi
from services.ops.adapters.notify_figures import NotifyFigures
from services.ops.adapters.operator_api import OperatorApi
from services.ops.entrypoints.http import ledger_pages, routes_live, routes_pages, routes_session
from services.ops.entrypoints.http.context import NotSignedIn, Operator, OpsContext, current, refuse
from services.ops.service_layer.console import Console
from shared.http_limits import BodySizeLimit, RateLimited, too_many
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings


def create_app(
    console: Console,
    settings: Settings,
    *,
    ready: asyncio.Event,
    limiter: RateLimiter,
    notify: NotifyFigures | None = None,
    api: OperatorApi,
) -> FastAPI:
    """The console's app over ``console``; ``ready`` says when the feed has its partitions;
    ``limiter`` counts sign-ins in the console's database; ``notify`` holds notify's latest
    figures; ``api`` is booking's operator API, called as the signed-in operator."""
    # Operator-only and not a public API: no OpenAPI document or docs pages to hand out.
    app = FastAPI(title="Kith operators", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ops = OpsContext(
        console=console,
        settings=settings,
        ready=ready,
        limiter=limiter,
        notify=notify,
        api=api,
        # Names this process's numbering of events in the ids of its stream.
        epoch=secrets.token_hex(4),
        token=settings.operator_token.get_secret_value() if settings.operator_token else None,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.http_max_body_bytes)
    app.add_exception_handler(RateLimited, too_many)
    app.add_exception_handler(NotSignedIn, refuse)
    for routes in (routes_session, routes_pages, routes_live):
        app.include_router(routes.router)
    ledger_pages.install(app, LedgerApi(settings), current, Operator)
    return app
