"""Operators in the services beside booking: who is calling, and each action on record.

Booking owns operators' accounts, sessions and the one audit trail. Partners, notify and the
ledger ask booking whose a bearer token is (``GET /v1/operator/me``) and, before they act on
an operator's behalf, put the action on record there (``POST /v1/operator/audit/entries``),
forwarding the operator's own token: the entry names whoever booking knows the token to be,
and an action booking could not record is not taken (503).

The shared operators' token is the bootstrap administrator in the development mode only, as
in booking; elsewhere it is the services' key, which a route may accept for reading figures
that name nobody (``service_reads``). In the development mode, a bootstrap administrator's
action that booking cannot record (a fault scenario runs the ledger without booking) is
logged and taken.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.secrets import configured_or_generated
from shared.settings import Settings

log = structlog.get_logger(__name__)

#: How an operator's session token begins (booking mints them so): any other token is no
#: operator's, known without asking booking.
OPERATOR_SESSION_PREFIX = "kith_op_"
#: Why the operator acts, kept with the entry (routes whose body has no reason of its own).
REASON_HEADER = "X-Kith-Reason"
_METHODS_THAT_ACT = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_bearer = HTTPBearer(
    auto_error=False, description="An operator's session token from booking's sign-in."
)


class OperatorsUnavailable(Exception):
    """Booking did not answer who is calling, or could not record an action."""


@dataclass(frozen=True, slots=True)
class OperatorCalling:
    """The operator making a call, as booking knows them."""

    name: str
    roles: frozenset[str]
    #: Their token, forwarded to booking to put their actions on record.
    token: str
    #: The development bootstrap administrator (the shared operators' token).
    bootstrap: bool = False


class OperatorAccess:
    """Asks booking who an operator is (remembered briefly) and records their actions.

    Args:
        settings: The service's settings (the operators' token, the development mode,
            booking's address).
        transport: httpx's transport (tests pass booking's app through an ASGI transport).
        service_key: The shared operators' token, when the service holds it already.
        remember_s: How long an answer is kept: a signed-out operator's token still works
            here for at most this long.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        service_key: str | None = None,
        remember_s: float = 10.0,
    ) -> None:
        if service_key is None and (settings.operator_token is not None or settings.development):
            service_key = configured_or_generated(
                settings, settings.operator_token, "operator-token"
            )
        self._service_key = service_key or ""
        self._development = settings.development
        self._client = httpx.AsyncClient(
            base_url=settings.booking_base_url(), timeout=5.0, transport=transport
        )
        self._remember_s = remember_s
        self._known: dict[str, tuple[float, OperatorCalling | None]] = {}

    def is_service_key(self, token: str) -> bool:
        """Whether ``token`` is the shared operators' token, in constant time."""
        return bool(self._service_key) and secrets.compare_digest(
            token.encode(), self._service_key.encode()
        )

    async def identify(self, token: str) -> OperatorCalling | None:
        """The operator whose token this is; ``None`` when booking says it is nobody's."""
        if self.is_service_key(token):
            if not self._development:
                return None
            return OperatorCalling("bootstrap", frozenset({"administrator"}), token, True)
        if not token.startswith(OPERATOR_SESSION_PREFIX):
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        remembered = self._known.get(key)
        if remembered is not None and time.monotonic() - remembered[0] < self._remember_s:
            return remembered[1]
        try:
            response = await self._client.get(
                "/v1/operator/me", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise OperatorsUnavailable(f"booking did not answer ({type(error).__name__})") from None
        if response.status_code in (401, 403):
            found = None
        elif response.status_code == 200:
            body = response.json()
            found = OperatorCalling(str(body["name"]), frozenset(body["roles"]), token)
        else:
            raise OperatorsUnavailable(f"booking answered {response.status_code}")
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[key] = (time.monotonic(), found)
        return found

    async def record(
        self,
        who: OperatorCalling,
        action: str,
        *,
        subject_kind: str | None = None,
        subject_id: str | None = None,
        reason: str | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        """Put ``action`` on the audit trail under ``who``'s name, before it is taken."""
        body: dict[str, Any] = {
            "action": action,
            "subject_kind": subject_kind,
            "subject_id": subject_id,
            "reason": reason,
            "details": details or {},
        }
        try:
            response = await self._client.post(
                "/v1/operator/audit/entries",
                json=body,
                headers={"Authorization": f"Bearer {who.token}"},
            )
            failure = (
                None if response.status_code == 201 else f"booking answered {response.status_code}"
            )
        except httpx.HTTPError as error:
            failure = f"booking did not answer ({type(error).__name__})"
        if failure is None:
            return
        if who.bootstrap and self._development:
            log.warning("operator action not on the audit trail", action=action, why=failure)
            return
        raise OperatorsUnavailable(failure)

    async def close(self) -> None:
        """Close the connections to booking."""
        await self._client.aclose()


def operator_dependency(
    service: str,
    access_of: Callable[[Request], OperatorAccess],
    *,
    service_reads: bool = False,
) -> Callable[..., Awaitable[OperatorCalling | None]]:
    """A FastAPI dependency admitting operators only, and recording what they do.

    Each call that acts (POST, PUT, PATCH, DELETE) is put on the audit trail before the route
    runs, as ``<service>.<route name>``, with the route's path parameters (the first is its
    subject) and the reason in the ``X-Kith-Reason`` header. With ``service_reads`` the
    services' key may also read (GET): the dependency then answers ``None``.
    """

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> OperatorCalling | None:
        if credentials is None or not credentials.credentials:
            raise HTTPException(401, "send Authorization: Bearer <an operator's session token>")
        token = credentials.credentials
        access = access_of(request)
        acts = request.method in _METHODS_THAT_ACT
        if service_reads and not acts and access.is_service_key(token):
            return None
        try:
            who = await access.identify(token)
            if who is None:
                raise HTTPException(
                    403, "operators only: sign in at booking's /v1/operator/sessions"
                )
            if acts:
                await _record(service, access, who, request)
        except OperatorsUnavailable as error:
            raise HTTPException(503, f"operators cannot be checked now: {error}") from None
        request.state.operator = who
        return who

    return dependency


async def _record(
    service: str, access: OperatorAccess, who: OperatorCalling, request: Request
) -> None:
    route = request.scope.get("route")
    name = getattr(route, "name", None) or "act"
    params = {key: str(value) for key, value in request.path_params.items()}
    subject = next(iter(params.items()), None)
    reason = request.headers.get(REASON_HEADER)
    await access.record(
        who,
        f"{service}.{name}",
        subject_kind=subject[0].removesuffix("_id") if subject else None,
        subject_id=subject[1] if subject else None,
        reason=reason[:500] if reason else None,
        details={**params, **dict(request.query_params.items())},
    )
