"""Safeguarding concerns as trust keeps them: open until an operator resolves them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.contracts.trust import ConcernOutcome


@dataclass(frozen=True, slots=True)
class Concern:
    """One concern about a person; ``outcome`` is None while it is open."""

    concern_id: uuid.UUID
    about_id: uuid.UUID
    outcome: ConcernOutcome | None = None

    @property
    def is_open(self) -> bool:
        """Whether no operator has resolved it yet."""
        return self.outcome is None


def resolution_applies(concern: Concern, about_id: uuid.UUID) -> bool:
    """Whether a resolution naming ``about_id`` changes ``concern``.

    A concern is resolved once: a second resolution (a retry, or a second operator) is
    ignored. A resolution naming someone else is an error.
    """
    if concern.about_id != about_id:
        raise ValueError(f"concern {concern.concern_id} is not about {about_id}")
    return concern.is_open
