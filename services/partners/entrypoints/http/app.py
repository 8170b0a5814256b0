"""The gateway's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from services.partners.entrypoints.http import routes_operator, routes_partner
from services.partners.entrypoints.http.dependencies import Context
from services.partners.entrypoints.http.problems import PROBLEM_RESPONSES, install_problem_handlers
from shared.http_limits import BodySizeLimit


def create_app(context: Context) -> FastAPI:
    """The partners API over an already started gateway (the caller owns its life)."""
    app = FastAPI(
        title="Kith partners",
        version="1.0.0",
        description=(
            "Local partners take part in Kith: operators register them and grant scopes; "
            "partners refer people, answer offers to their services, attest vetting, and read "
            "back what was refused and how their webhooks were delivered. "
            "Errors are RFC 9457 problems."
        ),
        responses=PROBLEM_RESPONSES,
    )
    app.state.context = context
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.http_max_body_bytes)
    app.include_router(routes_operator.router)
    app.include_router(routes_partner.router)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness: answers without authentication."""
        return {"status": "ok"}

    return app
