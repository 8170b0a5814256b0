"""What a simulated run measures: one record per occurrence asked for, folded into figures per
week and in all, and checked against the targets.

The figures (their JSON names are the contract ``kith simulate --json`` prints):

* ``asked``: occurrences whose start fell in the week (withdrawn ones included);
* ``withdrawn``: of those, cancelled by the neighbour before their start;
* ``eligible``: of the rest, those that had an eligible helper by the plan
  (``world.had_eligible_helper``);
* ``served``: occurrences booked with a helper when their start came;
* ``served_by_regular``: of a weekly series' served occurrences after its first, those
  served by the helper of the series' previous served occurrence;
* ``told_operators``: not booked at the start, but on the operators' list by then;
* ``stranded``: start passed with neither a booking nor the operators told;
* ``helper_cancelled``: occurrences whose booking the helper (or Kith, for them) cancelled;
* ``refilled_after_cancel``: of those, served by someone else when the start came;
* ``no_shows``: visits one side did not turn up to (planned by the simulation);
* ``left_open``: visits that took place or were due, never closed once the run ended;
* ``safeguarding_violations``: a suspended person shown an open offer or an address;
* ``unserved_causes``: eligible occurrences not served, by a first guess at the cause
  (``world.why_unserved``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: A week's served share may fall to this much of the first week's, no lower.
WEEK_SHARE_FLOOR = 0.9
#: Of the occurrences that had an eligible helper, at least this share must be served.
SERVED_TARGET = 0.95
#: The whole run must take no longer (a 12-week run on a 2-core machine).
TIME_TARGET_S = 600.0

FIGURES = (
    "asked",
    "withdrawn",
    "eligible",
    "served",
    "served_eligible",
    "served_by_regular",
    "told_operators",
    "stranded",
    "helper_cancelled",
    "refilled_after_cancel",
    "no_shows",
    "left_open",
    "safeguarding_violations",
)


@dataclass
class Occurrence:
    """One occurrence asked for, and what became of it."""

    request_id: str
    series_id: str | None
    index: int
    neighbour: str
    skill: str
    starts_at: datetime
    hours: int
    week: int
    eligible: bool = False
    withdrawn: bool = False
    settled: bool = False
    served_by: str | None = None
    booking_id: str | None = None
    by_regular: bool = False
    told: bool = False
    stranded: bool = False
    helper_cancelled: bool = False
    no_show: bool = False
    left_open: bool = False
    unserved_cause: str | None = None
    eligible_helpers: tuple[str, ...] = ()

    @property
    def served(self) -> bool:
        """Booked with a helper when the start came."""
        return self.served_by is not None


@dataclass
class Figures:
    """Counts for one week, or for the whole run."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    causes: dict[str, int] = field(default_factory=dict)

    def add(self, occurrence: Occurrence) -> None:
        """Count one occurrence whose start has come."""
        c = self.counts
        c["asked"] += 1
        if occurrence.withdrawn:
            c["withdrawn"] += 1
            return
        c["eligible"] += occurrence.eligible
        c["served"] += occurrence.served
        c["served_eligible"] += occurrence.served and occurrence.eligible
        c["served_by_regular"] += occurrence.by_regular
        c["told_operators"] += occurrence.told
        c["stranded"] += occurrence.stranded
        c["helper_cancelled"] += occurrence.helper_cancelled
        c["refilled_after_cancel"] += occurrence.helper_cancelled and occurrence.served
        c["no_shows"] += occurrence.no_show
        c["left_open"] += occurrence.left_open
        if occurrence.eligible and not occurrence.served and occurrence.unserved_cause:
            cause = occurrence.unserved_cause
            self.causes[cause] = self.causes.get(cause, 0) + 1

    @property
    def served_share(self) -> float | None:
        """Served among the occurrences that had an eligible helper (None when none had)."""
        eligible = self.counts["eligible"]
        return self.counts["served_eligible"] / eligible if eligible else None

    def as_json(self) -> dict[str, Any]:
        """The counts and the served share, rounded."""
        share = self.served_share
        return {
            **self.counts,
            "served_share": None if share is None else round(share, 4),
            "unserved_causes": dict(sorted(self.causes.items())),
        }


class Ledger:
    """Every occurrence of the run, and the violations seen, by week."""

    def __init__(self, weeks: int) -> None:
        self.weeks = weeks
        self.occurrences: dict[str, Occurrence] = {}
        self.violations: dict[int, set[str]] = {}
        self.series_helper: dict[str, str] = {}

    def asked(self, occurrence: Occurrence) -> None:
        """Record an occurrence as Kith accepted it."""
        self.occurrences[occurrence.request_id] = occurrence

    def violation(self, week: int, what: str) -> bool:
        """Record a safeguarding violation once (``what`` names the offer or booking)."""
        seen = {item for items in self.violations.values() for item in items}
        if what in seen:
            return False
        self.violations.setdefault(min(max(week, 0), self.weeks - 1), set()).add(what)
        return True

    def served(self, occurrence: Occurrence, helper: str, booking_id: str) -> None:
        """The occurrence's start came with ``helper`` booked; note whether it was the regular."""
        occurrence.served_by = helper
        occurrence.booking_id = booking_id
        if occurrence.series_id is not None:
            previous = self.series_helper.get(occurrence.series_id)
            occurrence.by_regular = previous == helper
            self.series_helper[occurrence.series_id] = helper

    def in_range(self) -> list[Occurrence]:
        """Occurrences starting inside the simulated weeks, settled at their start."""
        return [o for o in self.occurrences.values() if 0 <= o.week < self.weeks and o.settled]

    def report(self, elapsed_s: float) -> dict[str, Any]:
        """Figures in all and per week, and each target with whether it was met."""
        total = Figures()
        weekly = [Figures() for _ in range(self.weeks)]
        for occurrence in self.in_range():
            total.add(occurrence)
            weekly[occurrence.week].add(occurrence)
        for week, items in self.violations.items():
            weekly[week].counts["safeguarding_violations"] += len(items)
            total.counts["safeguarding_violations"] += len(items)
        weeks = [{"week": index + 1, **figures.as_json()} for index, figures in enumerate(weekly)]
        return {
            **total.as_json(),
            "weeks": weeks,
            "violations": sorted(item for items in self.violations.values() for item in items),
            "targets": targets(total, weekly, elapsed_s),
            "elapsed_s": round(elapsed_s, 1),
        }


def targets(total: Figures, weekly: list[Figures], elapsed_s: float) -> dict[str, Any]:
    """Each target: the figure measured, the bound, and whether it holds."""
    share = total.served_share
    first = next((w.served_share for w in weekly if w.served_share is not None), None)
    floor = None if first is None else WEEK_SHARE_FLOOR * first
    worst = min((w.served_share for w in weekly if w.served_share is not None), default=None)
    return {
        "stranded": _target(total.counts["stranded"], "== 0", total.counts["stranded"] == 0),
        "safeguarding_violations": _target(
            total.counts["safeguarding_violations"],
            "== 0",
            total.counts["safeguarding_violations"] == 0,
        ),
        "left_open": _target(total.counts["left_open"], "== 0", total.counts["left_open"] == 0),
        "served_share": _target(
            None if share is None else round(share, 4),
            f">= {SERVED_TARGET}",
            share is not None and share >= SERVED_TARGET,
        ),
        "worst_week_share": _target(
            None if worst is None else round(worst, 4),
            f">= {WEEK_SHARE_FLOOR} x week 1 ({'-' if floor is None else round(floor, 4)})",
            worst is not None and floor is not None and worst >= floor,
        ),
        "elapsed_s": _target(
            round(elapsed_s, 1), f"<= {TIME_TARGET_S:.0f}", elapsed_s <= TIME_TARGET_S
        ),
    }


def _target(value: object, bound: str, met: bool) -> dict[str, Any]:
    return {"value": value, "target": bound, "met": met}
