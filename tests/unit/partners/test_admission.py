"""Admission: who may send what, about whom, and when."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.partners.domain.admission import Refused, admit, recorded_by
from services.partners.domain.scopes import grant
from shared.contracts.bookings import OfferDeclined
from shared.contracts.partners import PartnerOfferAnswered
from shared.contracts.skills import VettingStep
from shared.contracts.trust import VettingStepRecorded
from tests.unit.partners.factories import NEIGHBOURHOOD, NOW, partner, referral


def test_a_referral_in_scope_is_admitted_unchanged() -> None:
    sender = partner()
    payload = referral(sender.partner_id)
    assert admit(sender, payload, now=NOW) is payload


def test_a_referral_for_another_partner_is_refused() -> None:
    with pytest.raises(Refused, match="is not yours"):
        admit(partner(), referral(uuid.uuid4()), now=NOW)


def test_a_type_outside_the_partner_scopes_is_refused() -> None:
    sender = partner(grant(send=[]))
    with pytest.raises(Refused, match=r"do not allow sending 'partner\.person_referred'"):
        admit(sender, referral(sender.partner_id), now=NOW)


def test_a_kith_event_partners_do_not_send_is_refused() -> None:
    declined = OfferDeclined(
        offer_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        helper_id=uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
    )
    with pytest.raises(Refused, match="not an event partners send"):
        admit(partner(), declined, now=NOW)


def test_a_deactivated_partner_is_refused() -> None:
    sender = partner(active=False)
    with pytest.raises(Refused, match="deactivated"):
        admit(sender, referral(sender.partner_id), now=NOW)


def test_a_referral_off_the_hour_or_in_the_past_is_refused() -> None:
    sender = partner()
    with pytest.raises(Refused, match="on the hour"):
        admit(sender, referral(sender.partner_id, starts_at=NOW + timedelta(days=1)), now=NOW)
    past = NOW.replace(minute=0) - timedelta(hours=1)
    with pytest.raises(Refused, match="in the future"):
        admit(sender, referral(sender.partner_id, starts_at=past), now=NOW)


def test_only_a_partner_with_a_service_answers_offers() -> None:
    scopes = grant(send=["partner.offer_answered"])
    answer = PartnerOfferAnswered(
        partner_id=uuid.uuid4(), offer_id=uuid.uuid4(), request_id=uuid.uuid4(), accepted=True
    )
    without = partner(scopes)
    with pytest.raises(Refused, match="runs a service"):
        admit(without, answer.model_copy(update={"partner_id": without.partner_id}), now=NOW)
    running = partner(scopes, service=True)
    mine = answer.model_copy(update={"partner_id": running.partner_id})
    assert admit(running, mine, now=NOW) is mine


def test_a_vetting_step_must_name_the_partner_that_recorded_it() -> None:
    sender = partner(grant(send=["vetting.step_recorded"]))
    step = VettingStepRecorded(
        person_id=uuid.uuid4(), step=VettingStep.IDENTITY, recorded_by="operator:alice"
    )
    with pytest.raises(Refused, match="recorded_by must be"):
        admit(sender, step, now=NOW)
    attributed = step.model_copy(update={"recorded_by": recorded_by(sender.partner_id)})
    assert admit(sender, attributed, now=NOW) is attributed
