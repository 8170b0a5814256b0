"""What every route needs: the gateway's parts, and who is calling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.partners.domain.partner import Partner
from services.partners.domain.webhook_targets import TargetPolicy, networks
from services.partners.service_layer.inbox import authenticate
from services.partners.service_layer.ports import Feeds, PartnersUnitOfWork
from shared.http_limits import client_address, enforce
from shared.operator_access import OperatorAccess, operator_dependency
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings
from shared.unit_of_work import UnitOfWorkStarter

_bearer = HTTPBearer(auto_error=False, description="The operators' token, or a partner's API key.")


@dataclass(frozen=True, slots=True)
class Context:
    """The composition root's pieces the routes use."""

    start: UnitOfWorkStarter[PartnersUnitOfWork]
    feeds: Feeds
    settings: Settings
    on_partners_changed: Callable[[], None]
    limiter: RateLimiter
    """Rate limits, counted in the gateway's database for every gateway process."""
    operators: OperatorAccess
    """Who an operator is, and their actions on the audit trail (both in booking)."""


#: Where a partner's receiver runs in development: on this machine.
LOOPBACK = ("127.0.0.0/8", "::1/128")


def target_policy(settings: Settings) -> TargetPolicy:
    """Where webhooks may go, as the settings allow.

    The embedded development mode allows plain http and loopback explicitly, so that a
    receiver on the same machine works; nothing else is opened in it.
    """
    allowed = settings.webhook_allowed_networks.split(",")
    if settings.development:
        allowed.extend(LOOPBACK)
    return TargetPolicy(
        allow_http=settings.webhook_allow_http or settings.development,
        allowed_networks=networks(allowed),
    )


async def context(request: Request) -> Context:
    """The app's context, set by ``create_app``."""
    value = request.app.state.context
    assert isinstance(value, Context)
    return value


Ctx = Annotated[Context, Depends(context)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "send Authorization: Bearer <token>")
    return credentials.credentials


def _operators(request: Request) -> OperatorAccess:
    value = request.app.state.context
    assert isinstance(value, Context)
    return value.operators


#: Only operators pass, each action on the audit trail under their name.
operator = operator_dependency("partners", _operators)


async def current_partner(ctx: Ctx, credentials: Credentials, request: Request) -> Partner:
    """The active partner whose API key the request bears, within its rate limits.

    The address is counted before the key is looked at, so guessing keys is limited too; the
    key (as a digest) is the account (``KITH_RATE_PARTNER_API_*``).
    """
    token = credentials.credentials if credentials is not None else None
    await enforce(
        ctx.limiter, ctx.settings, "partner_api", address=client_address(request), account=token
    )
    async with ctx.start() as uow:
        partner = await authenticate(uow, _token(credentials))
    if partner is None or not partner.active:
        raise HTTPException(401, "unknown or deactivated partner key")
    return partner


Operator = Depends(operator)
Me = Annotated[Partner, Depends(current_partner)]
