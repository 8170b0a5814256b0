"""Booking's refusals as RFC 9457 problem details (the shape is ``shared.problems``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.booking.domain.errors import BookingProblem, Invalid, TooMany
from shared import problems
from shared.http_limits import RateLimited, too_many
from shared.problems import problem

#: Documented on every operation: each error is an RFC 9457 problem.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = problems.problem_responses(
    (400, "Bad request"),
    (401, "No valid bearer token"),
    (403, "Not allowed for this role"),
    (404, "Not found, or not yours"),
    (405, "Method not allowed"),
    (409, "Conflicts with the current state"),
    (413, "The request body is larger than `KITH_HTTP_MAX_BODY_BYTES`"),
    (422, "A field breaks a rule; `errors` names each field and why"),
    (429, "Too often: `Retry-After` says in how many seconds to try again"),
    (503, "The database is not answering: try again after `Retry-After` seconds"),
)

__all__ = ["PROBLEM_RESPONSES", "install_problem_handlers", "problem"]


async def _booking(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BookingProblem)
    errors = (
        [{"field": error.field, "reason": error.reason}] if isinstance(error, Invalid) else None
    )
    response = problem(error.status, error.title, error.detail, errors)
    if isinstance(error, TooMany):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def install_problem_handlers(app: FastAPI) -> None:
    """Every refusal, validation failure and HTTP error as problem details."""
    problems.install_problem_handlers(app)
    app.add_exception_handler(BookingProblem, _booking)
    app.add_exception_handler(RateLimited, too_many)
