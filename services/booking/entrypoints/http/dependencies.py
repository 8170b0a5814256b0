"""What every route needs: the unit of work, settings, and who is calling."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.booking.adapters.notices import NoticeBoard
from services.booking.adapters.session_cache import SessionCache
from services.booking.adapters.unit_of_work import UnitOfWork
from services.booking.domain.credentials import Passwords
from services.booking.domain.errors import Forbidden, Unauthorized
from services.booking.service_layer import accounts
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A token from sign-up or sign-in.")


@dataclass(frozen=True, slots=True)
class Context:
    """The composition root's pieces the routes use."""

    uow: UnitOfWork
    settings: Settings
    notices: NoticeBoard
    sessions: SessionCache
    passwords: Passwords
    idempotency_secret: bytes
    """Keys the HMAC of bodies kept with idempotency records; the key of the hashes kept of
    erased suspended people's contacts is derived from it (``domain.rejoining``)."""
    limiter: RateLimiter
    """Rate limits, counted in booking's database for every booking process."""


async def context(request: Request) -> Context:
    """The app's context, set by ``create_app``."""
    # async so FastAPI calls it inline: a plain ``def`` dependency is run in a worker thread,
    # a thread hop on every request.
    value = request.app.state.context
    assert isinstance(value, Context)
    return value


Ctx = Annotated[Context, Depends(context)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("send Authorization: Bearer <token>")
    return credentials.credentials


async def current_person(ctx: Ctx, credentials: Credentials) -> uuid.UUID:
    """The signed-in person."""
    return await accounts.authenticate(
        ctx.uow, _token(credentials), ctx.sessions, ctx.settings.session_max_age_days
    )


async def bearer_token(credentials: Credentials) -> str:
    """The bearer token the call was made with."""
    return _token(credentials)


async def operator(ctx: Ctx, credentials: Credentials) -> None:
    """Only a request bearing the operators' token passes."""
    token = _token(credentials)
    expected = ctx.settings.operator_token
    if expected is None or not secrets.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    ):
        raise Forbidden("operators only")


Me = Annotated[uuid.UUID, Depends(current_person)]
Token = Annotated[str, Depends(bearer_token)]
Operator = Depends(operator)
