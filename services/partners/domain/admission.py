"""Whether a partner's message may become a Kith event: the checks after the contract.

The shared codec has already checked the message against its contract; these are the checks
only the gateway can make, because they depend on who sent it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from services.partners.domain.partner import Partner
from services.partners.domain.scopes import SENDABLE_TYPES
from shared.contracts.envelope import Payload
from shared.contracts.partners import PartnerOfferAnswered, PersonReferred
from shared.contracts.trust import VettingStepRecorded


class Refused(ValueError):
    """The message cannot be admitted; ``reason`` is shown to the partner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def recorded_by(partner_id: uuid.UUID) -> str:
    """How a partner's vetting step names who recorded it."""
    return f"partner:{partner_id}"


def admit(partner: Partner, payload: Payload, *, now: datetime) -> Payload:
    """The payload to publish for a partner's message, or ``Refused`` with the reason.

    Args:
        partner: The authenticated sender.
        payload: The message's payload, already valid against its contract.
        now: The current time, for checks of when things happen.
    """
    if not partner.active:
        raise Refused("this partner is deactivated")
    if payload.TYPE not in SENDABLE_TYPES:
        raise Refused(
            f"{payload.TYPE!r} is not an event partners send; "
            f"partners send {sorted(SENDABLE_TYPES)}"
        )
    if payload.TYPE not in partner.scopes.send:
        raise Refused(f"your scopes do not allow sending {payload.TYPE!r}")
    sender = getattr(payload, "partner_id", None)
    if sender is not None and sender != partner.partner_id:
        raise Refused(f"partner_id {sender} is not yours ({partner.partner_id})")
    if isinstance(payload, PersonReferred):
        _check_referral(payload, now)
    elif isinstance(payload, PartnerOfferAnswered):
        if partner.service is None:
            raise Refused("only a partner that runs a service answers offers")
    elif isinstance(payload, VettingStepRecorded):
        expected = recorded_by(partner.partner_id)
        if payload.recorded_by != expected:
            raise Refused(f"recorded_by must be {expected!r}")
    return payload


def _check_referral(referral: PersonReferred, now: datetime) -> None:
    start = referral.starts_at
    if (start.minute, start.second, start.microsecond) != (0, 0, 0):
        raise Refused("starts_at: must be on the hour")
    if start <= now:
        raise Refused("starts_at: must be in the future")
    if referral.consent.given_at > now:
        raise Refused("consent.given_at: cannot be in the future")
