"""RFC 9457 problem details: the one error shape of every Kith HTTP API (booking, partners)."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

MEDIA_TYPE = "application/problem+json"

#: What a request meets while its database is away (killed, starting again, unreachable),
#: including a connection the dying server left in the middle of an operation.
DATABASE_AWAY: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
#: Seconds a client is told to wait before trying again while the database is away.
RETRY_AFTER_S = 1

#: The JSON schema of every error body, for the OpenAPI document.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}


def problem_responses(*described: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses documenting each ``(status, description)`` as an RFC 9457 problem."""
    return {
        status: {"description": description, "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}
        for status, description in described
    }


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem-details response (``WWW-Authenticate`` added to a 401)."""
    body: dict[str, Any] = {
        "type": f"https://kith.example/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts) or "<body>"


async def _validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"field": _field(item.get("loc", ())), "reason": str(item.get("msg", "invalid"))}
        for item in error.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
    return problem(422, "Validation failed", detail, errors)


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # RFC 9110 requires Allow on a 405. Starlette names only the methods of the first
        # route that matched the path; a path served by several routes (GET and PATCH /v1/me)
        # allows the methods of all of them.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem(error.status_code, _title(error.status_code), str(error.detail), None, headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route_methods
    return sorted(methods)


def _title(status: int) -> str:
    return {
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        409: "Conflict",
        413: "Content too large",
        422: "Validation failed",
        429: "Too many requests",
    }.get(status, "Error")


async def _database_away(_: Request, error: Exception) -> JSONResponse:
    """A 503 the client may retry (with its ``Idempotency-Key``), not a bare 500: nothing
    was done, or what was done committed and the retry finds it."""
    return problem(
        503,
        "Service unavailable",
        "the database is not answering at present; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Validation failures, HTTP errors and a database that is away as problem details; a
    service adds its own."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    for away in DATABASE_AWAY:
        app.add_exception_handler(away, _database_away)
