"""The gateway's refusals as RFC 9457 problem details (the shape is ``shared.problems``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.partners.domain.scopes import ScopeError
from services.partners.service_layer.registry import UnknownPartner
from shared import problems
from shared.http_limits import RateLimited, too_many
from shared.problems import problem

#: Documented on every operation: each error is an RFC 9457 problem.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = problems.problem_responses(
    (401, "No valid bearer token"),
    (403, "Not allowed for this role"),
    (404, "Not found"),
    (413, "The request body is larger than `KITH_HTTP_MAX_BODY_BYTES`"),
    (429, "Too many requests from this address or with this key: see `Retry-After`"),
    (422, "A field breaks a rule, or the event was refused; `errors` says why"),
    (503, "The database is not answering: try again after `Retry-After` seconds"),
)

__all__ = ["PROBLEM_RESPONSES", "install_problem_handlers", "problem"]


async def _scope(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ScopeError)
    return problem(
        422, "Validation failed", str(error), [{"field": error.field, "reason": error.reason}]
    )


async def _unknown(_: Request, error: Exception) -> JSONResponse:
    return problem(404, "Not found", f"no partner {error}")


def install_problem_handlers(app: FastAPI) -> None:
    """Every refusal, validation failure and HTTP error as problem details."""
    problems.install_problem_handlers(app)
    app.add_exception_handler(ScopeError, _scope)
    app.add_exception_handler(UnknownPartner, _unknown)
    app.add_exception_handler(RateLimited, too_many)
