"""Events that let local partners take part (stream ``partners``).

A partner's own messages arrive on the private ``partners.inbox`` stream, where the partners
gateway checks who sent them, whether the partner's scopes allow them and whether they match a
contract. Only what passes is published again here (or, for attested vetting, on ``vetting``),
so booking and matching never read a partner's unchecked words.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.envelope import Payload
from shared.contracts.skills import Skill
from shared.contracts.types import Cell, Hours, Neighbourhood


class PartnerServiceChanged(Payload):
    """A partner takes a class of requests itself (a lift service, say), or stops doing so.

    Matching offers requests for ``skills`` in ``neighbourhoods`` to ``helper_id`` (the
    identity under which the partner's service receives offers and bookings) before any
    person; booking keeps a profile for that identity. Sent whole on every change.
    """

    TYPE = "partner.service_changed"

    partner_id: uuid.UUID
    name: str = Field(min_length=1, max_length=120)
    helper_id: uuid.UUID
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    neighbourhoods: list[Neighbourhood] = Field(default_factory=list, max_length=500)
    active: bool


class ConsentMethod(StrEnum):
    """How the referred person gave their consent to be referred."""

    VERBAL = "verbal"
    WRITTEN = "written"
    DIGITAL = "digital"


class Consent(BaseModel):
    """The referred person's consent, as the partner recorded it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    given_at: AwareDatetime
    method: ConsentMethod
    recorded_by: str = Field(min_length=1, max_length=120, description="The partner's staff.")


class PersonReferred(Payload):
    """A partner asks for help on behalf of a person who consented to it.

    No address or phone number travels: the partner stays the person's contact, and booking
    shows the confirmed helper where to go only through the partner (``partner_reference``).
    """

    TYPE = "partner.person_referred"

    referral_id: uuid.UUID
    partner_id: uuid.UUID
    partner_reference: str = Field(min_length=1, max_length=120)
    first_name: str = Field(min_length=1, max_length=60)
    neighbourhood: Neighbourhood
    cell: Cell
    skill: Skill
    starts_at: AwareDatetime
    hours: Hours
    occurrences: int = Field(default=1, ge=1, le=52, description="Weekly, from starts_at.")
    consent: Consent


class PartnerOfferAnswered(Payload):
    """A partner that takes a class of requests answers an offer, as a helper would."""

    TYPE = "partner.offer_answered"

    partner_id: uuid.UUID
    offer_id: uuid.UUID
    request_id: uuid.UUID
    accepted: bool
