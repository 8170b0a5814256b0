"""Why eligible occurrences went unserved, in matching's own words.

Matching logs, for each request it gives up on, why it passed over each helper it read but
did not rank (``request unmatched``). The simulation runs ``kith up`` with JSON logs and reads
those verdicts back, and knows what each simulated helper did with the offers they saw, to say
for each helper who could have come (by the plan) what kept them from it: offered it and
declined, let it lapse or was too late; passed over, and why; or neither (never offered it,
and not among the helpers matching passed over).
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kith.simulate.metrics import Occurrence
from kith.simulate.world import HelperPlan

NOT_CONSIDERED_OTHER_CELL = (
    "no answer, not passed over: an offer that lapsed unseen, or not read (other cell)"
)
NOT_CONSIDERED = "no answer, not passed over: an offer that lapsed unseen, or not read (same cell)"
CAME_LATER = "arrived or changed hours after matching gave up (not retried since)"
STILL_OPEN = "no verdict: the request was still open at its start"


@dataclass(frozen=True)
class Verdict:
    """Matching's last word on one request it could not place."""

    offered: frozenset[str]
    passed_over: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None


def matching_verdicts(log: Path) -> dict[str, Verdict]:
    """Every ``request unmatched`` line of a ``kith up`` log (JSON lines behind a prefix)."""
    verdicts: dict[str, Verdict] = {}
    if not log.exists():
        return verdicts
    with log.open(errors="replace") as lines:
        for line in lines:
            if "request unmatched" not in line:
                continue
            _, _, body = line.partition(" | ")
            try:
                entry = json.loads(body)
            except ValueError:
                continue
            if entry.get("event") != "request unmatched":
                continue
            stamp = entry.get("timestamp")
            verdicts[str(entry["request_id"])] = Verdict(
                frozenset(str(h) for h in entry.get("offered", [])),
                {str(k): str(v) for k, v in (entry.get("passed_over") or {}).items()},
                datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None,
            )
    return verdicts


def why_not_served(
    occurrences: list[Occurrence],
    verdicts: dict[str, Verdict],
    person_ids: dict[str, str],
    answers: dict[str, dict[str, str]],
    helpers: dict[str, HelperPlan],
    neighbour_cells: dict[str, str],
    mornings: list[tuple[datetime, int]],
) -> dict[str, int]:
    """For each eligible helper of each eligible, unserved occurrence: what matching said.

    Args:
        occurrences: The run's settled occurrences.
        verdicts: Matching's verdicts by request id.
        person_ids: Helper label to person id.
        answers: What each helper did with the offers of each request (by request id).
        helpers: Helper label to plan.
        neighbour_cells: Neighbour label to neighbourhood cell.
        mornings: When (real time, as logs are stamped) each simulated day's morning began.
    """
    reasons: Counter[str] = Counter()
    for item in unserved(
        occurrences, verdicts, person_ids, answers, helpers, neighbour_cells, mornings
    ):
        reasons.update(item["helpers"].values() or [STILL_OPEN])
    return dict(reasons.most_common())


def unserved(
    occurrences: list[Occurrence],
    verdicts: dict[str, Verdict],
    person_ids: dict[str, str],
    answers: dict[str, dict[str, str]],
    helpers: dict[str, HelperPlan],
    neighbour_cells: dict[str, str],
    mornings: list[tuple[datetime, int]],
) -> list[dict[str, Any]]:
    """Each eligible occurrence left unserved, with what kept each eligible helper from it
    (the arguments are ``why_not_served``'s)."""
    found: list[dict[str, Any]] = []
    for occurrence in occurrences:
        if occurrence.withdrawn or occurrence.served or not occurrence.eligible:
            continue
        verdict = verdicts.get(occurrence.request_id)
        answered = answers.get(occurrence.request_id, {})
        why: dict[str, str] = {}
        for label in occurrence.eligible_helpers:
            if verdict is None:
                break  # still open at its start: matching had given no verdict
            person_id = person_ids.get(label, "")
            if label in answered:
                why[label] = f"offered it, and {answered[label]}"
            elif person_id in verdict.passed_over:
                why[label] = f"passed over: {verdict.passed_over[person_id]}"
            elif helpers[label].neighbourhood != neighbour_cells.get(occurrence.neighbour):
                why[label] = NOT_CONSIDERED_OTHER_CELL
            elif _came_later(helpers[label], _day_at(verdict.at, mornings)):
                why[label] = CAME_LATER
            else:
                why[label] = NOT_CONSIDERED
        found.append(
            {
                "request_id": occurrence.request_id,
                "week": occurrence.week + 1,
                "starts_at": occurrence.starts_at.isoformat(),
                "neighbour": occurrence.neighbour,
                "series": occurrence.series_id is not None,
                "helper_cancelled": occurrence.helper_cancelled,
                "cause": occurrence.unserved_cause,
                "helpers": why,
            }
        )
    return found


def _day_at(moment: datetime | None, mornings: list[tuple[datetime, int]]) -> int | None:
    """The simulated day that was running at real ``moment``."""
    if moment is None or not mornings:
        return None
    index = bisect.bisect_right([at for at, _ in mornings], moment) - 1
    return mornings[index][1] if index >= 0 else -1


def _came_later(helper: HelperPlan, day: int | None) -> bool:
    if day is None:
        return False
    return helper.arrives_day > day or (
        helper.new_hours_day is not None and helper.new_hours_day > day
    )
