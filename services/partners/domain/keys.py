"""API keys and webhook secrets: made with the OS's randomness, keys kept only as a hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_KEY_PREFIX = "kith_pk_"
_SECRET_PREFIX = "whsec_"


def new_api_key() -> str:
    """A fresh API key with 256 bits of entropy, shown to the operator once."""
    return _KEY_PREFIX + secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    """A fresh webhook signing secret, shown to the operator once.

    Standard Webhooks' form: ``whsec_`` and the base64 of 32 random bytes, which any
    Standard Webhooks library takes as it is.
    """
    return _SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def hash_key(api_key: str) -> str:
    """The stored form of a key.

    A plain SHA-256 is enough: the key is random and long, so there is nothing to guess
    and a slow password hash would only slow down every message a partner sends.
    """
    return hashlib.sha256(api_key.encode()).hexdigest()


def key_matches(api_key: str, stored_hash: str) -> bool:
    """Whether ``api_key`` is the one whose hash is stored, compared in constant time."""
    return hmac.compare_digest(hash_key(api_key), stored_hash)


def key_hint(api_key: str) -> str:
    """Enough of a key to tell which one a partner holds, never enough to use it."""
    return api_key[: len(_KEY_PREFIX) + 4] + "…"
