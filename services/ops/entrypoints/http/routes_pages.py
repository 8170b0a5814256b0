"""The console's pages, and booking's operator API passed through as the signed-in operator."""

from __future__ import annotations

import re
from typing import Any

import httpx
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.ops.entrypoints.http import pages
from services.ops.entrypoints.http.context import Acting, Ctx, problem, signed_in

#: What may follow ``/ops/api/``: a path of booking's operator API, nothing that climbs out.
_API_PATH = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")

router = APIRouter()
log = structlog.get_logger(__name__)


@router.get("/ops")
async def console_page(request: Request) -> Response:
    if not await signed_in(request):
        return RedirectResponse("/ops/login", status_code=303)
    return pages.respond(pages.console_page())


@router.get("/ops/act")
async def act_page(request: Request) -> Response:
    """Where operators act: vetting, concerns, welfare checks, the audit trail."""
    if not await signed_in(request):
        return RedirectResponse("/ops/login", status_code=303)
    return pages.respond(pages.act_page())


@router.get("/ops/me")
async def me(who: Acting) -> dict[str, Any]:
    """Who is signed in to the console, and their roles."""
    return {"name": who.name, "roles": list(who.roles)}


@router.api_route("/ops/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def operator_api(path: str, request: Request, who: Acting, ctx: Ctx) -> Response:
    """Booking's operator API (``/v1/operator/<path>``), called as the signed-in operator:
    booking checks their role and puts the call on its audit trail."""
    if not _API_PATH.match(path):
        return problem(404, "Not found", "no such operator route")
    if request.method != "GET" and request.headers.get("x-kith-console") != "1":
        # A form on another site cannot set this header (nor send the cookie, which is
        # SameSite=Strict): belt and braces against cross-site requests.
        return problem(403, "Forbidden", "send X-Kith-Console: 1 with every change")
    try:
        answer = await ctx.api.call(
            request.method,
            path,
            who.token,
            params=list(request.query_params.multi_items()),
            body=await request.body() or None,
            idempotency_key=request.headers.get("idempotency-key"),
        )
    except httpx.HTTPError as error:
        log.warning("operator_api.unanswered", path=path, error=repr(error))
        return problem(502, "Bad gateway", "booking's operator API did not answer")
    headers = {"Cache-Control": "no-store"}
    if answer.disposition:
        headers["Content-Disposition"] = answer.disposition
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=answer.content_type,
        headers=headers,
    )
