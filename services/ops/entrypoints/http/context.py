"""What every console route needs: the console's parts, and who is signed in.

An operator signs in with their email, password and one-time code (checked by booking, which
keeps operators' accounts); in the development mode the operators' token signs in the
bootstrap administrator. A script may send ``Authorization: Bearer <token>`` (an operator's
session token from booking, or the operators' token) instead of the session cookie.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from services.ops.adapters.notify_figures import NotifyFigures
from services.ops.adapters.operator_api import OperatorApi, SignedIn
from services.ops.entrypoints.http.session import (
    COOKIE,
    operator_token,
    session_valid,
    token_matches,
)
from services.ops.service_layer.console import Console
from shared.contracts import utc_now
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings

#: The bootstrap administrator's roles: every one (development only).
_EVERY_ROLE = ("administrator", "coordinator", "safeguarding_lead")


class NotSignedIn(Exception):
    """The request carries neither a valid session nor the operators' token."""


@dataclass(frozen=True, slots=True)
class OpsContext:
    """The console's parts, set on the app by ``create_app``.

    Attributes:
        console: What the console read from the streams.
        settings: Kith's settings.
        ready: Set once the feed has its partitions.
        limiter: Counts sign-ins in the console's database.
        notify: Notify's latest figures (``None``: not asked).
        api: Booking's operator API, called as the signed-in operator.
        epoch: Names this process's numbering of events in the ids of its stream.
        token: The operators' token, if set.
    """

    console: Console
    settings: Settings
    ready: asyncio.Event
    limiter: RateLimiter
    notify: NotifyFigures | None
    api: OperatorApi
    epoch: str
    token: str | None

    @property
    def bootstrap(self) -> SignedIn | None:
        """The development bootstrap administrator (the operators' token)."""
        return SignedIn("bootstrap", _EVERY_ROLE, self.token) if self.token else None

    @property
    def bootstrap_allowed(self) -> bool:
        """Whether the operators' token may sign in (the development mode only)."""
        return self.settings.development and self.token is not None


def context(request: Request) -> OpsContext:
    """The app's context, set by ``create_app``."""
    value = request.app.state.ops
    assert isinstance(value, OpsContext)
    return value


Ctx = Annotated[OpsContext, Depends(context)]


async def current(request: Request) -> SignedIn | None:
    """Who is signed in: by bearer token, or by the session cookie."""
    ctx = context(request)
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        given = bearer[7:].strip()
        if token_matches(ctx.token, given):
            return ctx.bootstrap
        return await ctx.api.who(given) if given else None
    cookie = request.cookies.get(COOKIE)
    theirs = operator_token(cookie)
    if theirs is not None:
        return await ctx.api.who(theirs)
    if ctx.settings.development and session_valid(ctx.token, cookie, utc_now()):
        return ctx.bootstrap
    return None


async def signed_in(request: Request) -> bool:
    """Whether anyone is signed in."""
    return await current(request) is not None


async def operator(request: Request) -> SignedIn:
    """The signed-in operator; ``NotSignedIn`` (a 401) when there is none."""
    found = await current(request)
    if found is None:
        raise NotSignedIn
    return found


#: A route's dependency: operators only.
Operator = Depends(operator)
#: The signed-in operator, as a route's parameter.
Acting = Annotated[SignedIn, Depends(operator)]


async def refuse(_: Request, __: Exception) -> Response:
    """``NotSignedIn`` as a 401 problem."""
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "detail": "operators only: sign in at /ops/login",
        },
        status_code=401,
        media_type="application/problem+json",
        headers={"WWW-Authenticate": 'Bearer realm="kith-ops"'},
    )


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """A problem-details answer."""
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )
