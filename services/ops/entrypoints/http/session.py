"""Operator sign-in cookies.

An operator signed in through booking carries booking's session token in the cookie (HttpOnly,
SameSite=Strict): booking checks it on every call, and signing out ends it there. The
development bootstrap administrator's cookie holds an expiry and an HMAC of it keyed with the
operators' token, so changing the token signs everyone out.
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


#: Marks a cookie that holds an operator's booking session token (not a bootstrap session).
_OPERATOR_PREFIX = "op."


def operator_cookie(booking_token: str) -> str:
    """The cookie value for an operator signed in through booking: their session token,
    which only booking can check (and end)."""
    return _OPERATOR_PREFIX + booking_token


def operator_token(value: str | None) -> str | None:
    """The booking session token a cookie holds, or ``None`` (a bootstrap session, or none)."""
    if not value or not value.startswith(_OPERATOR_PREFIX):
        return None
    return value[len(_OPERATOR_PREFIX) :] or None
