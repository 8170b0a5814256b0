"""Operators: who they are, what each role may do, and their second factor.

An operator is not a person of the platform: operators run a community (coordinators, a
safeguarding lead, administrators) and each signs in as themselves, with a password and a
time-based one-time code (TOTP, RFC 6238), so that everything they do names them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote, urlencode


class Role(StrEnum):
    """What an operator may do; one operator may hold several roles."""

    COORDINATOR = "coordinator"
    """Runs a neighbourhood: vetting, waiting requests, flagged visits, welfare checks,
    assisted sign-ups and corrections."""
    SAFEGUARDING_LEAD = "safeguarding_lead"
    """Everything a coordinator does, and alone resolves concerns."""
    ADMINISTRATOR = "administrator"
    """Everything a coordinator does, and manages operators' accounts and reads the audit
    trail."""


#: The development bootstrap administrator's name in the audit trail.
BOOTSTRAP = "bootstrap"


@dataclass(frozen=True, slots=True)
class Acting:
    """The operator making a call.

    Attributes:
        operator_id: Their account; ``None`` for the development bootstrap administrator
            (the shared operators' token, accepted only in the development mode).
        name: How they are named in the audit trail and on what they record.
        roles: What they may do.
    """

    operator_id: uuid.UUID | None
    name: str
    roles: frozenset[Role]

    def may(self, role: Role) -> bool:
        """Whether this operator holds ``role``; every role does a coordinator's work."""
        return role is Role.COORDINATOR or role in self.roles

    def named(self, name: str | None) -> Acting:
        """This operator, or, for the bootstrap administrator only, the operator a script says
        it records for (a body's ``recorded_by``): a signed-in operator is always themselves."""
        if self.operator_id is not None or not name:
            return self
        return Acting(None, name, self.roles)

    @property
    def stamp(self) -> str:
        """What is recorded as "who did it" on a vetting step, a resolution or a review."""
        return f"operator:{self.name}"


def bootstrap(name: str | None = None) -> Acting:
    """The development bootstrap administrator (every role), named ``name`` if a script says
    whom it stands for."""
    return Acting(None, name or BOOTSTRAP, frozenset(Role))


def account_change_refusal(
    by: uuid.UUID | None,
    operator_id: uuid.UUID,
    *,
    disabling: bool,
    admin_before: bool,
    admin_after: bool,
    enabled_admins: int,
) -> str | None:
    """Why an administrator may not make this change to an operator's account, or ``None``.

    Args:
        by: The administrator making it (``None``: the development bootstrap administrator).
        operator_id: Whose account changes.
        disabling: Whether the change disables an enabled account.
        admin_before: Whether the account is an enabled administrator now.
        admin_after: Whether it will be one after the change.
        enabled_admins: How many enabled administrators there are now (this one included).

    Nobody locks themselves out, and Kith always keeps one administrator who can sign in:
    without one, nobody could make or mend an account but from the command line.
    """
    if disabling and by == operator_id:
        return "you cannot disable your own account: ask another administrator"
    if admin_before and not admin_after and enabled_admins <= 1:
        return "this is the last administrator: make another one first"
    return None


# -- TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, as authenticator apps expect) --

TOTP_STEP_S = 30
TOTP_DIGITS = 6
#: Codes one step early or late are accepted: a phone's clock drifts, a person types slowly.
TOTP_DRIFT_STEPS = 1


def new_totp_secret() -> str:
    """A fresh 160-bit secret in base32, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def totp_at(secret: str, step: int, digits: int = TOTP_DIGITS) -> str:
    """The code for time step ``step`` (RFC 4226's HOTP over the step counter)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_step(moment: datetime) -> int:
    """The time step ``moment`` falls in."""
    return int(moment.timestamp()) // TOTP_STEP_S


def totp_now(secret: str, moment: datetime) -> str:
    """The code an authenticator app shows at ``moment``."""
    return totp_at(secret, totp_step(moment))


def totp_matches(secret: str, code: str, moment: datetime, after_step: int | None) -> int | None:
    """The step ``code`` is valid for near ``moment``, or ``None``.

    A step at or before ``after_step`` (the last one used) is refused: a code seen over a
    shoulder or in a log cannot be used a second time.
    """
    if not (code.isdigit() and len(code) == TOTP_DIGITS):
        return None
    now = totp_step(moment)
    for step in range(now - TOTP_DRIFT_STEPS, now + TOTP_DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp_at(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, email: str, issuer: str = "Kith operators") -> str:
    """The ``otpauth://`` address an authenticator app reads (from a QR code or by hand)."""
    label = quote(f"{issuer}:{email}")
    return f"otpauth://totp/{label}?" + urlencode(
        {"secret": secret, "issuer": issuer, "digits": TOTP_DIGITS, "period": TOTP_STEP_S}
    )
