"""The web app's way to the ledger: booking forwards ``/ledger/v1/...`` to the ledger's API.

The app is served from booking's origin under a Content-Security-Policy that lets it call
only that origin (``connect-src 'self'``). Forwarding the few paths a person uses keeps it
so: no CORS, no second origin to trust, and the ledger still checks the caller's booking
token itself (booking passes it on untouched and reads nothing of the answer). Operators'
and the payment provider's paths are not forwarded: they have their own ways in.
"""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI, Request
from starlette.responses import Response

from shared.problems import problem
from shared.settings import Settings

#: Where the app calls the ledger, on booking's origin.
PREFIX = "/ledger"

#: The ledger paths (after ``/v1/``) a person's app may reach through booking.
FORWARDED = re.compile(
    r"^(me/ledger(/[A-Za-z0-9_./-]*)?|communities/[a-z0-9-]{1,64}/pot"
    r"|neighbourhoods/[0-9a-f]{1,32}/community)$"
)

#: What of the caller's request the ledger needs: who is calling, what is sent, and the key
#: that makes a retried POST create nothing twice.
_REQUEST_HEADERS = ("authorization", "content-type", "accept", "idempotency-key")
#: What of the ledger's answer the browser needs.
_ANSWER_HEADERS = (
    "content-type",
    "retry-after",
    "cache-control",
    "x-content-type-options",
    "www-authenticate",
)


def receipt_body_cap(settings: Settings) -> int:
    """The largest body booking takes on the expenses path: a receipt photo in base64
    (a third larger than the photo) and the few fields around it."""
    return settings.ledger_receipt_max_bytes * 4 // 3 + 4096


def install(app: FastAPI, settings: Settings) -> None:
    """Forward ``/ledger/v1/<path>`` to the ledger's ``/v1/<path>`` (GET and POST), with a
    short timeout; a ledger that does not answer is a 503 problem, never a hang."""
    base = settings.ledger_base_url()
    timeout = settings.ledger_forward_timeout_s

    @app.api_route(f"{PREFIX}/v1/{{path:path}}", methods=["GET", "POST"], include_in_schema=False)
    async def forward(path: str, request: Request) -> Response:
        if not FORWARDED.fullmatch(path) or ".." in path:
            return problem(404, "Not found", "the web app reaches no such ledger path")
        headers = {
            name: request.headers[name] for name in _REQUEST_HEADERS if name in request.headers
        }
        # One client per call: the app calls the ledger a few times a screen, and a client
        # that lives no longer than the call needs no start or stop hook in booking.
        transport: httpx.AsyncBaseTransport | None = getattr(
            request.app.state, "ledger_transport", None
        )
        try:
            async with httpx.AsyncClient(
                base_url=base, timeout=timeout, transport=transport
            ) as client:
                answer = await client.request(
                    request.method,
                    f"/v1/{path}",
                    params=request.query_params,
                    content=await request.body(),
                    headers=headers,
                )
        except httpx.HTTPError as error:
            return problem(
                503,
                "Service unavailable",
                f"the ledger did not answer ({type(error).__name__}): please try again shortly",
                headers={"Retry-After": "5"},
            )
        kept = {name: answer.headers[name] for name in _ANSWER_HEADERS if name in answer.headers}
        return Response(answer.content, status_code=answer.status_code, headers=kept)
