"""Booking's operator API, as the console calls it on behalf of the signed-in operator.

Operators' accounts, the actions and the audit trail live in booking (it owns the operator
API and the personal details operators read). The console keeps none of them: it signs an
operator in through booking, keeps booking's session token in its HttpOnly cookie, and makes
every call with that token, so booking names the operator on everything they do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

#: How long the console trusts booking's answer to "who is this token?": a panel refreshes
#: every few seconds, and a signed-out or disabled operator is refused by booking itself on
#: any action whatever the console remembers.
WHO_CACHE_S = 10.0


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is signed in to the console.

    Attributes:
        name: Their name (the bootstrap administrator's is ``bootstrap``).
        roles: What booking lets them do.
        token: The bearer the console calls booking with for them.
    """

    name: str
    roles: tuple[str, ...]
    token: str


@dataclass(frozen=True, slots=True)
class Answer:
    """Booking's answer, passed on to the browser as it came."""

    status: int
    body: bytes
    content_type: str
    disposition: str | None = None


class OperatorApi:
    """An HTTP client on booking's ``/v1/operator`` routes; ``start`` and ``close`` it."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._client: httpx.AsyncClient | None = None
        self._who: dict[str, tuple[float, SignedIn | None]] = {}

    async def start(self) -> None:
        """Open the connection pool."""
        self._client = httpx.AsyncClient(base_url=self._base_url, timeout=15.0)

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The started client."""
        if self._client is None:
            raise RuntimeError("OperatorApi.start() has not run")
        return self._client

    async def sign_in(
        self, email: str, password: str, code: str, *, client: str
    ) -> tuple[int, dict[str, Any], int]:
        """Booking's answer to a sign-in: its status, body (the session, or the problem) and
        ``Retry-After``. ``client`` is the browser's address, passed on so that booking's
        per-address limit counts each operator's own, not the console's."""
        response = await self.client.post(
            "/v1/operator/sessions",
            json={"email": email, "password": password, "code": code},
            headers={"X-Forwarded-For": client},
        )
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        retry_after = response.headers.get("retry-after", "60")
        return response.status_code, body, int(retry_after) if retry_after.isdigit() else 60

    async def who(self, token: str) -> SignedIn | None:
        """The operator ``token`` signs in, or ``None`` (asked of booking, briefly cached)."""
        now = time.monotonic()
        cached = self._who.get(token)
        if cached is not None and now - cached[0] < WHO_CACHE_S:
            return cached[1]
        response = await self.client.get(
            "/v1/operator/me", headers={"Authorization": f"Bearer {token}"}
        )
        found = None
        if response.status_code == 200:
            me = response.json()
            found = SignedIn(me["name"], tuple(me["roles"]), token)
        if len(self._who) > 1000:
            self._who.clear()  # a bound, not an eviction policy: operators are few
        self._who[token] = (now, found)
        return found

    def forget(self, token: str) -> None:
        """Drop what is remembered of ``token`` (signed out)."""
        self._who.pop(token, None)

    async def sign_out(self, token: str) -> None:
        """End the session in booking."""
        self.forget(token)
        await self.client.delete(
            "/v1/operator/sessions/current", headers={"Authorization": f"Bearer {token}"}
        )

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        params: list[tuple[str, str | int | float | bool | None]],
        body: bytes | None,
        idempotency_key: str | None = None,
    ) -> Answer:
        """Call ``/v1/operator/<path>`` as the operator; booking's answer as it came. An
        ``Idempotency-Key`` from the page is passed on: a form sent twice acts once."""
        headers = {"Authorization": f"Bearer {token}"}
        if body:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = await self.client.request(
            method, f"/v1/operator/{path}", params=params, content=body, headers=headers
        )
        return Answer(
            response.status_code,
            response.content,
            response.headers.get("content-type", "application/json"),
            response.headers.get("content-disposition"),
        )
