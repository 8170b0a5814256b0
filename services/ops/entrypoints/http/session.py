"""Operator sign-in: the operators' token, exchanged once for a signed session cookie.

The cookie holds an expiry and an HMAC of it keyed with the token itself, so the console keeps
no session store, a session ends on its own, and changing the token signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

COOKIE = "kith_ops_session"
LIFETIME = timedelta(hours=12)
_PURPOSE = b"kith-ops-session:"


def token_matches(expected: str | None, given: str) -> bool:
    """Whether ``given`` is the operators' token, in constant time; never with no token set."""
    if not expected or not given:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


def new_session(token: str, now: datetime) -> str:
    """A cookie value that stays valid for ``LIFETIME`` from ``now``."""
    expires = int((now + LIFETIME).timestamp())
    return f"{expires}.{_signature(token, expires)}"


def session_valid(token: str | None, value: str | None, now: datetime) -> bool:
    """Whether a cookie value was signed with ``token`` and has not expired."""
    if not token or not value:
        return False
    expires_text, _, signature = value.partition(".")
    if not expires_text.isdigit() or int(expires_text) <= now.timestamp():
        return False
    return secrets.compare_digest(signature, _signature(token, int(expires_text)))


def _signature(token: str, expires: int) -> str:
    return hmac.new(token.encode(), _PURPOSE + str(expires).encode(), hashlib.sha256).hexdigest()
