"""Partners' services: relationships first, then the partner's service, then other helpers.

The service is offered a request in a round of its own, needs no personal vetting, and still
obeys trust (a suspension, a pair that must not meet again).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.matching.domain import (
    HelperView,
    PartnerService,
    PartnerView,
    Policy,
    Progress,
    Relationship,
    Standing,
    Tier,
    next_round,
    rank,
)
from services.matching.handlers import Matcher
from services.matching.state import MatchingState
from shared.contracts import Envelope
from shared.contracts.partners import (
    Consent,
    ConsentMethod,
    PartnerOfferAnswered,
    PartnerServiceChanged,
    PersonReferred,
)
from shared.contracts.requests import HelpRequested, OfferMade, ReasonCode
from shared.contracts.skills import Skill
from shared.contracts.trust import RelationshipStage
from tests.unit.matching.factories import HOME, NEIGHBOURHOOD, STARTS, helper, relationship
from tests.unit.matching.factories import request as make_request

NOW = datetime(2031, 3, 1, tzinfo=UTC)
POLICY = Policy(regular_hold_s=60, offer_ttl_s=300, cascade_width=3, cascade_rounds=4)


def _service(**changes: object) -> PartnerService:
    fields: dict[str, object] = {
        "partner_id": uuid.uuid4(),
        "name": "Ridewell Community Transport",
        "helper_id": uuid.uuid4(),
        "skills": frozenset({Skill.LIFT}),
        "neighbourhoods": frozenset({NEIGHBOURHOOD}),
        "active": True,
        **changes,
    }
    return PartnerService(**fields)  # type: ignore[arg-type]


def _lift(**changes: object) -> HelpRequested:
    return make_request(skill=Skill.LIFT, **changes)


def _lift_helper(
    metres: float, person_id: uuid.UUID | None = None, related: Relationship | None = None
) -> HelperView:
    """A person who gives lifts, vetted for them."""
    view = helper(
        metres=metres,
        relationship=related,
        person_id=person_id or uuid.uuid4(),
        skills=frozenset({Skill.LIFT}),
    )
    return replace(view, standing=Standing(False, {Skill.LIFT: STARTS + timedelta(days=30)}))


def test_relationships_first_then_the_partner_service_then_other_helpers() -> None:
    asked = _lift()
    regular_id, met_id = uuid.uuid4(), uuid.uuid4()
    regular = _lift_helper(
        2000, person_id=regular_id, related=relationship(regular_id, asked.neighbour_id)
    )
    met = _lift_helper(
        2500,
        person_id=met_id,
        related=relationship(met_id, asked.neighbour_id, stage=RelationshipStage.PAUSED),
    )
    strangers = [_lift_helper(100), _lift_helper(200)]
    service = _service()

    ranked = rank(
        [*strangers, met, regular],
        asked,
        width=3,
        partners=[PartnerView(service)],
    )

    assert [c.tier for c in ranked] == [
        Tier.PRIORITY,
        Tier.MET,
        Tier.PARTNER,
        Tier.NEARBY,
        Tier.NEARBY,
    ]
    assert [c.helper_id for c in ranked[:3]] == [regular_id, met_id, service.helper_id]
    [reason] = ranked[2].reasons
    assert reason.code is ReasonCode.PARTNER_SERVICE
    assert reason.text == "Ridewell Community Transport takes lift requests in this neighbourhood"


def test_the_service_holds_a_round_alone_and_people_rounds_stop_short_of_it() -> None:
    asked = _lift()
    met_id = uuid.uuid4()
    met = _lift_helper(
        900,
        person_id=met_id,
        related=relationship(met_id, asked.neighbour_id, stage=RelationshipStage.PAUSED),
    )
    strangers = [_lift_helper(100 + i) for i in range(3)]
    service = _service()
    ranked = rank(
        [*strangers, met],
        asked,
        width=3,
        partners=[PartnerView(service)],
    )
    progress = Progress(
        request=asked, event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), partition=0
    )

    progress, first = next_round(progress, ranked, POLICY, NOW)
    progress, second = next_round(progress, ranked, POLICY, NOW)
    progress, third = next_round(progress, ranked, POLICY, NOW)

    assert [o.helper_id for o in first if isinstance(o, OfferMade)] == [met_id]
    assert [o.helper_id for o in second if isinstance(o, OfferMade)] == [service.helper_id]
    assert {o.helper_id for o in third if isinstance(o, OfferMade)} == {
        s.profile.person_id for s in strangers
    }


def test_with_nobody_known_the_service_is_offered_first_and_alone() -> None:
    asked = _lift()
    service = _service()
    ranked = rank(
        [_lift_helper(100)],
        asked,
        width=3,
        partners=[PartnerView(service)],
    )
    start = Progress(request=asked, event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), partition=0)

    progress, [offer] = next_round(start, ranked, POLICY, NOW)

    assert isinstance(offer, OfferMade)
    assert offer.helper_id == service.helper_id
    assert progress.due_at == NOW + timedelta(seconds=POLICY.regular_hold_s)


def test_a_service_that_is_the_neighbours_regular_is_offered_as_one() -> None:
    asked = _lift()
    service = _service()
    ranked = rank(
        [],
        asked,
        width=3,
        partners=[
            PartnerView(service, relationship=relationship(service.helper_id, asked.neighbour_id))
        ],
    )
    assert ranked[0].tier is Tier.PRIORITY
    assert [r.code for r in ranked[0].reasons] == [
        ReasonCode.REGULAR_HELPER,
        ReasonCode.PARTNER_SERVICE,
    ]


@pytest.mark.parametrize(
    ("view", "asked"),
    [
        (PartnerView(_service(active=False)), _lift()),
        (PartnerView(_service()), make_request(skill=Skill.SHOPPING)),
        (PartnerView(_service(neighbourhoods=frozenset({"871f1d489ffffff"}))), _lift()),
        (PartnerView(_service(), standing=Standing(suspended=True)), _lift()),
    ],
    ids=["stopped", "another skill", "another neighbourhood", "suspended"],
)
def test_a_service_is_not_offered_what_it_does_not_take(
    view: PartnerView, asked: HelpRequested
) -> None:
    assert rank([], asked, width=3, partners=[view]) == []


def test_a_pair_that_must_not_meet_again_is_never_offered_the_service() -> None:
    asked = _lift()
    service = _service()
    ended = relationship(
        service.helper_id, asked.neighbour_id, stage=RelationshipStage.ENDED, matchable=False
    )
    assert rank([], asked, width=3, partners=[PartnerView(service, relationship=ended)]) == []


def test_the_service_needs_no_personal_vetting_from_trust() -> None:
    asked = _lift()
    service = _service()
    unvetted = Standing(suspended=False, approved_skills={})
    [candidate] = rank([], asked, width=3, partners=[PartnerView(service, standing=unvetted)])
    assert candidate.helper_id == service.helper_id


def test_the_matcher_keeps_services_and_ignores_other_partner_events() -> None:
    matcher = Matcher(MatchingState.in_memory(), POLICY)
    partner_id, helper_id = uuid.uuid4(), uuid.uuid4()
    referral = PersonReferred(
        referral_id=uuid.uuid4(),
        partner_id=partner_id,
        partner_reference="GP-1",
        first_name="Edith",
        neighbourhood=NEIGHBOURHOOD,
        cell=HOME,
        skill=Skill.LIFT,
        starts_at=STARTS,
        hours=1,
        consent=Consent(given_at=NOW, method=ConsentMethod.WRITTEN, recorded_by="Dr Shah"),
    )
    answer = PartnerOfferAnswered(
        partner_id=partner_id, offer_id=uuid.uuid4(), request_id=uuid.uuid4(), accepted=True
    )
    matcher.handle_partner(referral)
    matcher.handle_partner(answer)
    assert matcher.state.partner_services_all() == []

    matcher.handle_partner(
        PartnerServiceChanged(
            partner_id=partner_id,
            name="Ridewell",
            helper_id=helper_id,
            skills=[Skill.LIFT],
            neighbourhoods=[NEIGHBOURHOOD],
            active=True,
        )
    )
    asked = _lift()
    [offer] = [
        e.data
        for e in matcher.handle(Envelope.wrap(asked, producer="test"), 0, NOW)
        if isinstance(e.data, OfferMade)
    ]

    assert offer.helper_id == helper_id
    assert [r.code for r in offer.reasons] == [ReasonCode.PARTNER_SERVICE]
