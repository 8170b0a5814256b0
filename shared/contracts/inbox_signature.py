"""How a partner's Kafka message proves who sent it, without the API key in the message.

A message on ``kith.partners.inbox.v1`` is keyed by the partner id and carries the header
``kith-partner-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``<partner id>.<value>``
under the SHA-256 of the partner's API key. The gateway keeps that SHA-256 (never the key),
so it can check the signature; a reader of the topic sees neither the key nor the hash, and
cannot sign another message. (The HTTP API keeps taking the key itself, over TLS.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

#: The header of the signature.
SIGNATURE_HEADER = "kith-partner-signature"
#: The header older partner clients put the API key in, in clear: refused, never read.
CLEAR_KEY_HEADER = "kith-partner-key"
_VERSION = "v1"


def signing_key(api_key: str) -> str:
    """The key a partner signs with: the hex SHA-256 of its API key (what Kith stores)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def sign_inbox_message(signing_key_hex: str, partner_id: str, value: bytes) -> str:
    """The ``kith-partner-signature`` of one message ``value`` keyed by ``partner_id``."""
    digest = hmac.new(
        bytes.fromhex(signing_key_hex), partner_id.encode() + b"." + value, hashlib.sha256
    ).digest()
    return f"{_VERSION},{base64.b64encode(digest).decode()}"


def inbox_signature_matches(
    signing_key_hex: str, partner_id: str, value: bytes, signature: str
) -> bool:
    """Whether ``signature`` is the one ``sign_inbox_message`` makes, compared in constant time."""
    expected = sign_inbox_message(signing_key_hex, partner_id, value)
    return hmac.compare_digest(expected.encode(), signature.encode())
