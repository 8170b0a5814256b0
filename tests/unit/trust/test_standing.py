"""Which skills a helper's vetting approves, and when each approval expires."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.trust.domain.standing import Standing, StepRecord, approvals, is_suspended
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import VettingOutcome

T0 = datetime(2025, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
MONTH = timedelta(days=30)
PASSED, FAILED, REVOKED = VettingOutcome.PASSED, VettingOutcome.FAILED, VettingOutcome.REVOKED
#: Identity once; the others lapse, each on its own clock.
VALIDITY: dict[VettingStep, timedelta | None] = {
    VettingStep.IDENTITY: None,
    VettingStep.REFERENCES: 3 * YEAR,
    VettingStep.INTERVIEW: 3 * YEAR,
    VettingStep.BACKGROUND_CHECK: 3 * YEAR,
}
BASIC: dict[VettingStep, StepRecord] = {
    VettingStep.IDENTITY: StepRecord(PASSED, T0),
    VettingStep.REFERENCES: StepRecord(PASSED, T0 + timedelta(days=3)),
    VettingStep.INTERVIEW: StepRecord(PASSED, T0 + timedelta(days=10)),
}
ENHANCED = {**BASIC, VettingStep.BACKGROUND_CHECK: StepRecord(PASSED, T0 + timedelta(days=20))}


def _approvals(
    steps: dict[VettingStep, StepRecord],
    offered: set[Skill],
    now: datetime = T0 + MONTH,
    validity: dict[VettingStep, timedelta | None] = VALIDITY,
) -> dict[Skill, datetime]:
    return approvals(steps, offered, validity=validity, now=now)


def test_no_steps_approve_nothing() -> None:
    assert _approvals({}, {Skill.SHOPPING}) == {}


def test_basic_steps_approve_basic_skills_only() -> None:
    result = _approvals(BASIC, {Skill.SHOPPING, Skill.COMPANY, Skill.PERSONAL_CARE})
    assert set(result) == {Skill.SHOPPING, Skill.COMPANY}


def test_a_missing_step_withholds_approval() -> None:
    partial: dict[VettingStep, StepRecord] = {
        k: v for k, v in BASIC.items() if k is not VettingStep.INTERVIEW
    }
    assert _approvals(partial, {Skill.SHOPPING}) == {}


def test_an_approval_lasts_until_its_first_required_step_lapses() -> None:
    result = _approvals(ENHANCED, {Skill.PERSONAL_CARE, Skill.SHOPPING})
    # References (day 3) lapse first; identity never does.
    assert result == {
        Skill.PERSONAL_CARE: T0 + timedelta(days=3) + 3 * YEAR,
        Skill.SHOPPING: T0 + timedelta(days=3) + 3 * YEAR,
    }


def test_only_offered_skills_are_approved() -> None:
    assert _approvals(BASIC, set()) == {}
    assert set(_approvals(BASIC, {Skill.GARDENING})) == {Skill.GARDENING}


def test_a_lapsed_background_check_withholds_enhanced_skills_but_not_basic_ones() -> None:
    checked = {**ENHANCED, VettingStep.REFERENCES: StepRecord(PASSED, T0 + 3 * YEAR)}
    checked[VettingStep.INTERVIEW] = StepRecord(PASSED, T0 + 3 * YEAR)
    later = T0 + timedelta(days=20) + 3 * YEAR
    assert set(_approvals(checked, {Skill.LIFT, Skill.SHOPPING}, now=later)) == {Skill.SHOPPING}


def test_recording_identity_again_never_renews_an_old_background_check() -> None:
    old_check = T0
    steps = {
        VettingStep.BACKGROUND_CHECK: StepRecord(PASSED, old_check),
        VettingStep.IDENTITY: StepRecord(PASSED, T0 + 3 * YEAR),
        VettingStep.REFERENCES: StepRecord(PASSED, T0 + 3 * YEAR),
        VettingStep.INTERVIEW: StepRecord(PASSED, T0 + 3 * YEAR),
    }
    assert _approvals(steps, {Skill.LIFT}, now=T0 + 3 * YEAR + MONTH) == {}
    assert _approvals(steps, {Skill.LIFT}, now=T0 + 3 * YEAR - MONTH) == {
        Skill.LIFT: old_check + 3 * YEAR
    }


def test_identity_checked_once_never_lapses() -> None:
    renewed = {**BASIC, VettingStep.REFERENCES: StepRecord(PASSED, T0 + 10 * YEAR)}
    renewed[VettingStep.INTERVIEW] = StepRecord(PASSED, T0 + 10 * YEAR)
    result = _approvals(renewed, {Skill.SHOPPING}, now=T0 + 10 * YEAR + MONTH)
    assert result == {Skill.SHOPPING: T0 + 13 * YEAR}


def test_a_failed_or_revoked_step_withholds_what_needs_it_until_passed_again() -> None:
    for outcome in (FAILED, REVOKED):
        steps = {**ENHANCED, VettingStep.BACKGROUND_CHECK: StepRecord(outcome, T0 + MONTH)}
        assert set(_approvals(steps, {Skill.LIFT, Skill.SHOPPING})) == {Skill.SHOPPING}
    passed_again = {**ENHANCED, VettingStep.BACKGROUND_CHECK: StepRecord(PASSED, T0 + MONTH)}
    assert set(_approvals(passed_again, {Skill.LIFT}, now=T0 + MONTH)) == {Skill.LIFT}


def test_a_validity_in_seconds_lapses_in_seconds() -> None:
    short = timedelta(seconds=5)
    validity: dict[VettingStep, timedelta | None] = {**VALIDITY}
    for step in (VettingStep.REFERENCES, VettingStep.INTERVIEW):
        validity[step] = short
    first = BASIC[VettingStep.REFERENCES].at
    soon = first + timedelta(seconds=4)
    assert _approvals(BASIC, {Skill.SHOPPING}, now=soon, validity=validity)
    assert _approvals(BASIC, {Skill.SHOPPING}, now=first + short, validity=validity) == {}


def test_next_expiry_is_the_earliest_approval() -> None:
    approved = {Skill.SHOPPING: T0 + MONTH, Skill.COMPANY: T0 + YEAR}
    person = Standing(person_id=uuid.uuid4(), approved=approved)
    assert person.next_expiry == T0 + MONTH
    assert Standing(person_id=uuid.uuid4()).next_expiry is None


def test_an_open_concern_or_a_removal_suspends() -> None:
    assert not is_suspended(open_concerns=0, removed=False)
    assert is_suspended(open_concerns=1, removed=False)
    assert is_suspended(open_concerns=0, removed=True)
