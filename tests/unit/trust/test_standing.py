"""Which skills a helper's vetting approves, and when each approval expires."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.trust.domain.standing import Standing, approvals, is_suspended
from shared.contracts.skills import Skill, VettingStep

T0 = datetime(2025, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
MONTH = timedelta(days=30)
BASIC: dict[VettingStep, datetime] = {
    VettingStep.IDENTITY: T0,
    VettingStep.REFERENCES: T0 + timedelta(days=3),
    VettingStep.INTERVIEW: T0 + timedelta(days=10),
}


def test_no_steps_approve_nothing() -> None:
    assert approvals({}, {Skill.SHOPPING}, valid_for=YEAR, now=T0) == {}


def test_basic_steps_approve_basic_skills_only() -> None:
    result = approvals(
        BASIC, {Skill.SHOPPING, Skill.COMPANY, Skill.PERSONAL_CARE}, valid_for=YEAR, now=T0
    )
    assert set(result) == {Skill.SHOPPING, Skill.COMPANY}


def test_a_missing_step_withholds_approval() -> None:
    partial: dict[VettingStep, datetime] = {
        k: v for k, v in BASIC.items() if k is not VettingStep.INTERVIEW
    }
    assert approvals(partial, {Skill.SHOPPING}, valid_for=YEAR, now=T0) == {}


def test_enhanced_skills_need_the_background_check() -> None:
    steps = {**BASIC, VettingStep.BACKGROUND_CHECK: T0 + timedelta(days=20)}
    result = approvals(steps, {Skill.PERSONAL_CARE, Skill.SHOPPING}, valid_for=YEAR, now=T0)
    assert result == {
        Skill.PERSONAL_CARE: T0 + timedelta(days=20 + 365),
        Skill.SHOPPING: T0 + timedelta(days=10 + 365),
    }


def test_only_offered_skills_are_approved() -> None:
    assert approvals(BASIC, set(), valid_for=YEAR, now=T0) == {}
    assert set(approvals(BASIC, {Skill.GARDENING}, valid_for=YEAR, now=T0)) == {Skill.GARDENING}


def test_approval_expires_after_the_latest_required_step() -> None:
    expires = T0 + timedelta(days=10 + 30)
    assert approvals(BASIC, {Skill.SHOPPING}, valid_for=MONTH, now=expires - timedelta(seconds=1))
    assert approvals(BASIC, {Skill.SHOPPING}, valid_for=MONTH, now=expires) == {}


def test_recording_a_step_again_renews_the_approval() -> None:
    renewed = {**BASIC, VettingStep.IDENTITY: T0 + timedelta(days=100)}
    result = approvals(renewed, {Skill.SHOPPING}, valid_for=MONTH, now=T0 + timedelta(days=120))
    assert result == {Skill.SHOPPING: T0 + timedelta(days=130)}


def test_a_validity_in_seconds_lapses_in_seconds() -> None:
    latest = BASIC[VettingStep.INTERVIEW]
    short = timedelta(seconds=5)
    assert approvals(BASIC, {Skill.SHOPPING}, valid_for=short, now=latest + timedelta(seconds=4))
    assert approvals(BASIC, {Skill.SHOPPING}, valid_for=short, now=latest + short) == {}


def test_next_expiry_is_the_earliest_approval() -> None:
    approved = {Skill.SHOPPING: T0 + MONTH, Skill.COMPANY: T0 + YEAR}
    person = Standing(person_id=uuid.uuid4(), approved=approved)
    assert person.next_expiry == T0 + MONTH
    assert Standing(person_id=uuid.uuid4()).next_expiry is None


def test_an_open_concern_or_a_removal_suspends() -> None:
    assert not is_suspended(open_concerns=0, removed=False)
    assert is_suspended(open_concerns=1, removed=False)
    assert is_suspended(open_concerns=0, removed=True)
