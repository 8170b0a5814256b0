"""Which skills a helper's vetting approves, and when each approval expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.trust.domain.standing import approvals
from shared.contracts.skills import Skill, VettingStep

T0 = datetime(2025, 1, 1, tzinfo=UTC)
BASIC: dict[VettingStep, datetime] = {
    VettingStep.IDENTITY: T0,
    VettingStep.REFERENCES: T0 + timedelta(days=3),
    VettingStep.INTERVIEW: T0 + timedelta(days=10),
}


def test_no_steps_approve_nothing() -> None:
    assert approvals({}, {Skill.SHOPPING}, valid_days=365, now=T0) == {}


def test_basic_steps_approve_basic_skills_only() -> None:
    result = approvals(
        BASIC, {Skill.SHOPPING, Skill.COMPANY, Skill.PERSONAL_CARE}, valid_days=365, now=T0
    )
    assert set(result) == {Skill.SHOPPING, Skill.COMPANY}


def test_a_missing_step_withholds_approval() -> None:
    partial: dict[VettingStep, datetime] = {
        k: v for k, v in BASIC.items() if k is not VettingStep.INTERVIEW
    }
    assert approvals(partial, {Skill.SHOPPING}, valid_days=365, now=T0) == {}


def test_enhanced_skills_need_the_background_check() -> None:
    steps = {**BASIC, VettingStep.BACKGROUND_CHECK: T0 + timedelta(days=20)}
    result = approvals(steps, {Skill.PERSONAL_CARE, Skill.SHOPPING}, valid_days=365, now=T0)
    assert result == {
        Skill.PERSONAL_CARE: T0 + timedelta(days=20 + 365),
        Skill.SHOPPING: T0 + timedelta(days=10 + 365),
    }


def test_only_offered_skills_are_approved() -> None:
    assert approvals(BASIC, set(), valid_days=365, now=T0) == {}
    assert set(approvals(BASIC, {Skill.GARDENING}, valid_days=365, now=T0)) == {Skill.GARDENING}


def test_approval_expires_after_the_latest_required_step() -> None:
    expires = T0 + timedelta(days=10 + 30)
    assert approvals(BASIC, {Skill.SHOPPING}, valid_days=30, now=expires - timedelta(seconds=1))
    assert approvals(BASIC, {Skill.SHOPPING}, valid_days=30, now=expires) == {}


def test_recording_a_step_again_renews_the_approval() -> None:
    renewed = {**BASIC, VettingStep.IDENTITY: T0 + timedelta(days=100)}
    result = approvals(renewed, {Skill.SHOPPING}, valid_days=30, now=T0 + timedelta(days=120))
    assert result == {Skill.SHOPPING: T0 + timedelta(days=130)}
