"""What every route needs: the unit of work, settings, and who is calling."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.booking.adapters.notices import NoticeBoard
from services.booking.domain.credentials import Passwords
from services.booking.domain.errors import Forbidden, Unauthorized
from services.booking.domain.operators import Acting, Role, bootstrap
from services.booking.service_layer import accounts, operators
from services.booking.service_layer.ports import Sessions, UnitOfWork
from shared.contracts import utc_now
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A token from sign-up or sign-in.")


@dataclass(frozen=True, slots=True)
class Context:
    """The composition root's pieces the routes use."""

    uow: UnitOfWork
    settings: Settings
    notices: NoticeBoard
    sessions: Sessions
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


async def current_person(request: Request, credentials: Credentials) -> uuid.UUID:
    """The signed-in person."""
    # The context read here, not as a dependency: every route a person calls asks for it,
    # and each dependency FastAPI solves costs a request more than the look-up itself.
    ctx = await context(request)
    return await accounts.authenticate(
        ctx.uow, _token(credentials), ctx.sessions, ctx.settings.session_max_age_days
    )


async def bearer_token(credentials: Credentials) -> str:
    """The bearer token the call was made with."""
    return _token(credentials)


def _is_service_token(ctx: Context, token: str) -> bool:
    expected = ctx.settings.operator_token
    return expected is not None and secrets.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    )


async def service(ctx: Ctx, credentials: Credentials) -> None:
    """Only another Kith service (bearing the shared operators' token) passes."""
    if not _is_service_token(ctx, _token(credentials)):
        raise Forbidden("Kith's services only")


async def operator(request: Request, ctx: Ctx, credentials: Credentials) -> Acting:
    """The signed-in operator making the call.

    An operator's own session token (``POST /v1/operator/sessions``) names them. The shared
    operators' token is the bootstrap administrator, and only in the development mode (where
    ``kith up``, the demo and the tests use it); elsewhere it is refused here.
    """
    token = _token(credentials)
    if ctx.settings.development and _is_service_token(ctx, token):
        who = bootstrap()
    else:
        found = await operators.authenticate(ctx.uow, token, utc_now())
        if found is None:
            # A person's token, an expired or signed-out session: not an operator's call.
            raise Forbidden("operators only: sign in at POST /v1/operator/sessions")
        who = found
    request.state.operator = who
    return who


def needs(role: Role) -> Callable[[Acting], Awaitable[Acting]]:
    """A dependency passing only operators holding ``role``."""

    async def check(who: Annotated[Acting, Depends(operator)]) -> Acting:
        if not who.may(role):
            raise Forbidden(f"only a {role.value.replace('_', ' ')} may do this")
        return who

    return check


Me = Annotated[uuid.UUID, Depends(current_person)]
Token = Annotated[str, Depends(bearer_token)]
Operator = Depends(operator)
Service = Depends(service)
#: The operator making the call (any role does a coordinator's work).
Acts = Annotated[Acting, Depends(operator)]
#: An operator who is a safeguarding lead.
Lead = Annotated[Acting, Depends(needs(Role.SAFEGUARDING_LEAD))]
#: An operator who is an administrator.
Admin = Annotated[Acting, Depends(needs(Role.ADMINISTRATOR))]
