"""Verifying the webhooks Kith posts to a partner."""

from __future__ import annotations

import hashlib
import hmac
import time

_SCHEME = "v1"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``Kith-Signature`` value Kith sends: ``v1=`` + hex HMAC-SHA256 of
    ``f"{timestamp}.{body}"`` under the webhook secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{_SCHEME}={digest.hexdigest()}"


def verify_webhook(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether a webhook request really came from Kith, recently.

    Args:
        secret: The webhook secret shown when the partner was registered.
        timestamp: The ``Kith-Timestamp`` header (Unix seconds).
        body: The raw request body, exactly as received (before any JSON parsing).
        signature: The ``Kith-Signature`` header; several comma-separated values are
            accepted, so a secret can be rotated without downtime.
        tolerance_s: How old (or how far ahead) a timestamp may be: older requests are
            refused, so a captured request cannot be replayed later.
        now: The current Unix time (for tests).
    """
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    return any(
        hmac.compare_digest(candidate.strip(), expected) for candidate in signature.split(",")
    )
