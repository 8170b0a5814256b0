"""What a fault scenario reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ScenarioResult:
    """The figures of one scenario, as ``kith faults`` prints them.

    Attributes:
        checked: Events (or requests) whose fate the scenario checked.
        lost: Of those, how many did not reach every place they should have.
        duplicate_effects: Effects applied more than once (a second booking, a request
            offered twice, an event applied twice by a consumer).
        recovery_s: Seconds from the fault's end (a restart) until everything caught up.
        details: What the figures are made of, for a reader who wants to know why.
    """

    checked: int
    lost: int
    duplicate_effects: int
    recovery_s: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """Nothing lost and nothing applied twice."""
        return self.lost == 0 and self.duplicate_effects == 0

    def as_json(self) -> dict[str, Any]:
        """The figures (and details) as JSON-ready data."""
        return {
            "checked": self.checked,
            "lost": self.lost,
            "duplicate_effects": self.duplicate_effects,
            "recovery_s": round(self.recovery_s, 2),
            "details": self.details,
        }
