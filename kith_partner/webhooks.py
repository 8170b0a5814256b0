"""Verifying the webhooks Kith posts to a partner (the Standard Webhooks scheme)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

__all__ = ["WebhookVerificationError", "verify_webhook"]


def verify_webhook(secret: str, body: bytes, headers: Mapping[str, str]) -> Any:
    """The event a webhook request carries, once it is shown to come from Kith, recently.

    Args:
        secret: The webhook secret (``whsec_...``) shown when the partner was registered or
            its secret rotated. During a rotation Kith signs with the old and the new secret,
            so either verifies.
        body: The raw request body, exactly as received (before any JSON parsing).
        headers: The request's headers; ``webhook-id``, ``webhook-timestamp`` and
            ``webhook-signature`` are read (any capitalisation).

    Returns:
        The parsed JSON envelope.

    Raises:
        WebhookVerificationError: A header is missing, the timestamp is more than five
            minutes off (a captured request cannot be replayed later), or no signature
            matches.
    """
    return Webhook(secret).verify(body, dict(headers))
