"""The lift service's webhook receiver: events Kith POSTs, verified before they are believed.

A partner without a Kafka client receives its feed this way. Each request is checked with
the SDK's ``verify_webhook`` (the Standard Webhooks scheme) against the webhook secret; one
that does not verify (not from Kith, altered, or more than five minutes old) gets a 401 and
is not read. Kith retries a failed delivery, and sends the same ``webhook-id`` each time, so
the receiver drops one it has already handled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kith_partner import WebhookVerificationError, verify_webhook

log = logging.getLogger("lift-service")


def webhook_app(secrets: list[str], on_event: Callable[[dict[str, Any]], None]) -> Starlette:
    """An ASGI app taking Kith's webhooks on ``POST /kith``.

    Args:
        secrets: The webhook secret, or during a rotation the new and the old one.
        on_event: Called with each verified event envelope, once per ``webhook-id``.
    """
    seen: set[str] = set()

    async def receive(request: Request) -> Response:
        body = await request.body()
        event = None
        for secret in secrets:
            try:
                event = verify_webhook(secret, body, request.headers)
                break
            except WebhookVerificationError:
                continue
        if event is None:
            log.warning("refused a webhook that does not verify")
            return Response(status_code=401)
        webhook_id = request.headers["webhook-id"]
        if webhook_id not in seen:
            seen.add(webhook_id)
            on_event(event)
        return Response(status_code=204)

    return Starlette(routes=[Route("/kith", receive, methods=["POST"])])
