"""Payloads and partners for the gateway's unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.partners.domain.partner import Partner, Service
from services.partners.domain.scopes import Scopes, grant
from shared.contracts.partners import Consent, ConsentMethod, PersonReferred
from shared.contracts.skills import Skill

NOW = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
NEIGHBOURHOOD = "871f1d489ffffff"
CELL = "891f1d48983ffff"


def partner(
    scopes: Scopes | None = None,
    *,
    service: bool = False,
    safeguarding: frozenset[str] = frozenset(),
    active: bool = True,
) -> Partner:
    return Partner(
        partner_id=uuid.uuid4(),
        name="Surgery",
        scopes=scopes or grant(send=["partner.person_referred"]),
        webhook_secret="whsec_test",
        key_hint="kith_pk_abcd…",
        active=active,
        service=Service(uuid.uuid4(), (Skill.LIFT,), (NEIGHBOURHOOD,)) if service else None,
        safeguarding_neighbourhoods=safeguarding,
    )


def referral(partner_id: uuid.UUID, *, starts_at: datetime | None = None) -> PersonReferred:
    return PersonReferred(
        referral_id=uuid.uuid4(),
        partner_id=partner_id,
        partner_reference="GP-1",
        first_name="Edith",
        neighbourhood=NEIGHBOURHOOD,
        cell=CELL,
        skill=Skill.SHOPPING,
        starts_at=starts_at or NOW.replace(minute=0) + timedelta(days=1),
        hours=1,
        consent=Consent(given_at=NOW, method=ConsentMethod.VERBAL, recorded_by="Dr A"),
    )
