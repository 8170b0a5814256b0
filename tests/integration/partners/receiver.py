"""A real HTTP server on a free port that receives webhooks, for the gateway's tests.

Given the partner's webhook secret, it verifies each request as a partner would, with the
``standardwebhooks`` package, and answers 401 to one that does not verify.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from shared.embedded import free_port
from tests.support import eventually


@dataclass(frozen=True)
class Received:
    """One request the receiver answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    verified: bool = False
    """Whether the signature verified with the receiver's secret."""

    @property
    def request_id(self) -> str | None:
        """The ``request_id`` in the event's data, when it has one."""
        value = json.loads(self.body).get("data", {}).get("request_id")
        return None if value is None else str(value)


@dataclass
class Receiver:
    """Records every request; refuses the event of request ``hold`` with 503 at least twice,
    and until the event of request ``release`` has been delivered."""

    url: str
    hold: str | None = None
    release: str | None = None
    secret: str | None = None
    """The one webhook secret this receiver holds; None accepts unverified requests."""
    answer_bytes: int = 0
    """How long a body each answer has."""
    drip_s: float | None = None
    """Answer with a body that never ends, one byte this often."""
    requests: list[Received] = field(default_factory=list)

    def _verifies(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def delivered(self) -> list[str | None]:
        """Request ids of the events answered 200, in the order they were answered."""
        return [r.request_id for r in self.requests if r.status == 200]

    def attempts_of(self, request_id: str) -> list[int]:
        """The statuses answered for one request's event, in order."""
        return [r.status for r in self.requests if r.request_id == request_id]

    def _answer(self, request_id: str | None) -> int:
        if request_id is None or request_id != self.hold:
            return 200
        released = self.release in self.delivered() and self.attempts_of(request_id).count(503) >= 2
        return 200 if released else 503


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A webhook receiver listening on ``Receiver.url`` (any path under it works too)."""
    port = free_port()
    state = Receiver(url=f"http://127.0.0.1:{port}/hook")

    async def hook(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        received = Received(request.url.path, headers, body, 0)
        verified = state._verifies(body, headers)
        status = state._answer(received.request_id)
        if state.secret is not None and not verified:
            status = 401
        state.requests.append(Received(received.path, headers, body, status, verified))
        if state.drip_s is not None:
            return StreamingResponse(_drip(state.drip_s), status_code=status)
        return Response(b"x" * state.answer_bytes, status_code=status)

    async def _drip(every_s: float) -> AsyncIterator[bytes]:
        while True:
            yield b"."
            await asyncio.sleep(every_s)

    app = Starlette(routes=[Route("/hook{rest:path}", hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, what="the webhook receiver")
    try:
        yield state
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
