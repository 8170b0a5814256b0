"""The SDK refuses, before sending, what the gateway would refuse for reasons it can see."""

from __future__ import annotations

import uuid

import pytest

from kith_partner import InvalidEvent, PartnerClient
from shared.contracts import Envelope
from shared.contracts.bookings import OfferDeclined
from shared.contracts.partners import PersonReferred
from shared.contracts.skills import VettingStep
from tests.unit.partners.factories import NEIGHBOURHOOD, referral


def _client() -> PartnerClient:
    return PartnerClient("127.0.0.1:1", uuid.uuid4(), "kith_pk_test")


def test_a_valid_referral_passes_the_check() -> None:
    client = _client()
    client.check(Envelope.wrap(referral(client.partner_id), producer="gp"))


def test_another_partner_s_referral_or_a_non_partner_event_is_refused() -> None:
    client = _client()
    with pytest.raises(InvalidEvent, match="is not this partner"):
        client.check(Envelope.wrap(referral(uuid.uuid4()), producer="gp"))
    declined = OfferDeclined(
        offer_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        helper_id=uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
    )
    with pytest.raises(InvalidEvent, match="not sendable"):
        client.check(Envelope.wrap(declined, producer="gp"))


def test_a_payload_built_without_validation_is_caught() -> None:
    client = _client()
    fields = dict(referral(client.partner_id))
    fields["hours"] = 40
    forged = PersonReferred.model_construct(**fields)
    with pytest.raises(InvalidEvent, match="hours"):
        client.check(Envelope.wrap(forged, producer="gp"))


def test_vetting_steps_are_attributed_to_the_partner() -> None:
    client = _client()
    step = client.vetting_step(person_id=uuid.uuid4(), step=VettingStep.IDENTITY)
    assert step.recorded_by == f"partner:{client.partner_id}"
    client.check(Envelope.wrap(step, producer="gp"))
    with pytest.raises(InvalidEvent, match="recorded_by"):
        client.check(
            Envelope.wrap(step.model_copy(update={"recorded_by": "someone"}), producer="gp")
        )


async def test_send_before_start_is_refused_after_the_check() -> None:
    client = _client()
    with pytest.raises(RuntimeError, match="start"):
        await client.send(referral(client.partner_id))
