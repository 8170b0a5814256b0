"""Webhook signatures to the Standard Webhooks scheme (https://www.standardwebhooks.com).

Each request carries ``webhook-id`` (the event id: the same on every retry, so a receiver
can drop a repeat), ``webhook-timestamp`` (Unix seconds of this attempt) and
``webhook-signature``: ``v1,<base64 HMAC-SHA256>`` over ``id.timestamp.body``, once per
secret in force. During a rotation the old and the new secret both sign, space-separated,
so a receiver that still holds the old one keeps verifying until it is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def signature_headers(
    secrets: Sequence[str], msg_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt, signed with every secret given."""
    if not secrets:
        raise ValueError("a webhook needs at least one secret to sign with")
    text = body.decode()
    signatures = [Webhook(secret).sign(msg_id, timestamp, text) for secret in secrets]
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(int(timestamp.timestamp())),
        SIGNATURE_HEADER: " ".join(signatures),
    }
