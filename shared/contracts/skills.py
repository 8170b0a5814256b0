"""The skills people offer, and the vetting each one needs before a helper is offered it."""

from __future__ import annotations

from enum import StrEnum


class Skill(StrEnum):
    """A kind of small help a neighbour can ask for."""

    SHOPPING = "shopping"
    LIFT = "lift"
    COMPANY = "company"
    REPAIRS = "repairs"
    FORMS_AND_PHONES = "forms_and_phones"
    GARDENING = "gardening"
    DOG_WALKING = "dog_walking"
    PERSONAL_CARE = "personal_care"


class VettingStep(StrEnum):
    """A check an operator (or an allowed partner) records about a helper."""

    IDENTITY = "identity"
    REFERENCES = "references"
    INTERVIEW = "interview"
    BACKGROUND_CHECK = "background_check"


_BASIC = frozenset({VettingStep.IDENTITY, VettingStep.REFERENCES, VettingStep.INTERVIEW})
_ENHANCED = _BASIC | {VettingStep.BACKGROUND_CHECK}

#: The steps a helper must have passed before they are offered a skill. Work inside a
#: neighbour's home or with their body needs the background check as well.
REQUIRED_STEPS: dict[Skill, frozenset[VettingStep]] = {
    Skill.SHOPPING: _BASIC,
    Skill.LIFT: _ENHANCED,
    Skill.COMPANY: _BASIC,
    Skill.REPAIRS: _ENHANCED,
    Skill.FORMS_AND_PHONES: _BASIC,
    Skill.GARDENING: _BASIC,
    Skill.DOG_WALKING: _BASIC,
    Skill.PERSONAL_CARE: _ENHANCED,
}


def approved_skills(passed: set[VettingStep], offered: set[Skill]) -> set[Skill]:
    """The offered skills whose required vetting steps have all been passed."""
    return {skill for skill in offered if REQUIRED_STEPS[skill] <= passed}
