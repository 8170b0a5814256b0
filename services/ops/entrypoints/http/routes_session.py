"""Signing in and out of the console, its health, and the site's root."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.ops.entrypoints.http import pages
from services.ops.entrypoints.http.context import Ctx, signed_in
from services.ops.entrypoints.http.session import (
    COOKIE,
    LIFETIME,
    new_session,
    operator_cookie,
    operator_token,
    token_matches,
)
from shared.contracts import utc_now
from shared.http_limits import RateLimited, client_address, enforce

_MAX_FORM_BYTES = 4096

router = APIRouter()


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/ops", status_code=303)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)  # browsers ask; an error in their console helps no one


@router.get("/ops/health")
async def health(ctx: Ctx) -> dict[str, Any]:
    """Whether the console reads the streams; no sign-in, and nothing from them."""
    console = ctx.console
    return {"ready": ctx.ready.is_set(), "caught_up": console.caught_up, "events": console.seen}


@router.get("/ops/login")
async def login_form(request: Request, ctx: Ctx) -> Response:
    if await signed_in(request):
        return RedirectResponse("/ops", status_code=303)
    return pages.respond(pages.login_page(development=ctx.bootstrap_allowed))


@router.post("/ops/login")
async def login(request: Request, ctx: Ctx) -> Response:
    # Every attempt counts, right or wrong: per address, and for the one operators' account
    # from anywhere (KITH_RATE_OPS_SIGN_IN_*).
    await enforce(
        ctx.limiter,
        ctx.settings,
        "ops_sign_in",
        address=client_address(request),
        account="operators",
    )
    body = await request.body()
    development = ctx.bootstrap_allowed
    if len(body) > _MAX_FORM_BYTES:
        return pages.respond(
            pages.login_page("That is too long.", development=development), status_code=413
        )
    form = parse_qs(body.decode(errors="replace"))

    def field(name: str) -> str:
        return form.get(name, [""])[0].strip()

    if field("token"):
        # The bootstrap administrator: the operators' token, in the development mode.
        given = field("token")
        if not development or not token_matches(ctx.token, given):
            return pages.respond(
                pages.login_page("That token is not right.", development=development),
                status_code=401,
            )
        assert ctx.token is not None  # bootstrap_allowed is false without one
        value = new_session(ctx.token, utc_now())
    else:
        status, answer, retry_after = await ctx.api.sign_in(
            field("email"),
            form.get("password", [""])[0],
            field("code"),
            client=client_address(request),
        )
        if status == 429:
            raise RateLimited("too many sign-ins: wait a little", retry_after)
        if status != 201:
            message = (
                "That email, password and code do not match an operator."
                if status in (401, 422)
                else "Kith could not check that just now; try again."
            )
            return pages.respond(
                pages.login_page(message, development=development),
                status_code=401 if status in (401, 422) else 503,
            )
        value = operator_cookie(answer["token"])
    response = RedirectResponse("/ops", status_code=303)
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(LIFETIME.total_seconds()),
        path="/ops",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/ops/logout")
async def logout(request: Request, ctx: Ctx) -> Response:
    theirs = operator_token(request.cookies.get(COOKIE))
    if theirs is not None:
        await ctx.api.sign_out(theirs)  # booking ends the session: the token is dead
    response = RedirectResponse("/ops/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ops", httponly=True, samesite="strict")
    return response
