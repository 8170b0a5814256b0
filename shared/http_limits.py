"""Limits every Kith HTTP service puts on its callers: body size and request rate.

A body over the cap is answered with a 413 problem before the application sees any of it,
whether its ``Content-Length`` says so at once or a chunked body grows past it. Bodies under
the cap are read whole here and handed on: every route reads its JSON whole anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import clock
from shared.postgres.rate_limits import RateLimiter
from shared.problems import problem
from shared.settings import Settings


class BodySizeLimit:
    """ASGI middleware refusing request bodies larger than ``max_bytes`` (413), or than
    ``larger[path]`` on the few paths that take more (a receipt photo, say)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await self._refuse(scope, receive, send, cap)
            return
        chunks: list[bytes] = []
        size = 0
        first: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message  # the client left; the app hears it in turn
                break
            body = message.get("body", b"")
            size += len(body)
            if size > cap:
                await self._refuse(scope, receive, send, cap)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole: Message = first or {"type": "http.request", "body": b"".join(chunks)}
        handed = False

        async def replay() -> Message:
            nonlocal handed
            if not handed:
                handed = True
                return whole
            return await receive()  # a disconnect, for a streaming response

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        response = problem(
            413,
            "Content too large",
            f"the request body is larger than {cap} bytes",
        )
        # The rest of the body is left unread: the connection is closed after the answer.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RateLimited(Exception):
    """Too many requests from one client address or for one account (429)."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s


async def too_many(_: Request, error: Exception) -> JSONResponse:
    """``RateLimited`` as a 429 problem with ``Retry-After``."""
    assert isinstance(error, RateLimited)
    response = problem(429, "Too many requests", error.detail)
    response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def client_address(request: Request) -> str:
    """The caller's address: the socket's peer, or what a trusted proxy says.

    uvicorn replaces the peer with ``X-Forwarded-For`` only from the addresses in
    ``FORWARDED_ALLOW_IPS`` (loopback by default), so a client cannot name itself.
    """
    return request.client.host if request.client is not None else "unknown"


def account_key(value: str) -> str:
    """An account as a bucket names it: a digest, so no email or key is stored."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


async def enforce(
    limiter: RateLimiter,
    settings: Settings,
    action: str,
    *,
    address: str,
    account: str | None = None,
) -> None:
    """Count one ``action`` for the client address, then the account; raise ``RateLimited``
    past either limit (``rate_<action>_per_address`` and ``_per_account`` in settings).

    On real time, not the shared clock: a limit counts the seconds a client really waits, and
    a process whose clock was moved ahead (a demo's fast-forward) would otherwise leave the
    bucket days in the future for every other process."""
    now = clock.wall_now()
    wait = await limiter.hit(
        f"{action}:address:{address}", settings.rate(f"rate_{action}_per_address"), now
    )
    if wait is not None:
        raise RateLimited(f"too many requests from your address: try again in {wait} s", wait)
    if account is None:
        return
    wait = await limiter.hit(
        f"{action}:account:{account_key(account)}",
        settings.rate(f"rate_{action}_per_account"),
        now,
    )
    if wait is not None:
        raise RateLimited(f"too many requests for this account: try again in {wait} s", wait)
