"""Webhook signatures: HMAC-SHA256 over the timestamp and the body."""

from __future__ import annotations

import hashlib
import hmac

#: The version prefix lets the scheme change later without breaking receivers.
SCHEME = "v1"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``Kith-Signature`` header value for one attempt: ``v1=<hex digest>``.

    The timestamp is signed with the body so that a captured request cannot be replayed
    later with a fresh timestamp.
    """
    message = timestamp.encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"
