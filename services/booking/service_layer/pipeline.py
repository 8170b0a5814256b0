"""The operators' queues booking keeps: the vetting pipeline and welfare checks' outcomes.

Trust decides what a vetting step unlocks; this module shows operators who is waiting for
which steps, with the evidence recorded, and whose approvals are about to lapse.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.booking.domain.errors import Conflict, NotFound
from services.booking.service_layer.ports import UnitOfWork
from shared.contracts.skills import REQUIRED_STEPS, Skill

#: How many people the pipeline lists at most (the oldest sign-ups first); the answer says
#: when more wait.
CANDIDATES = 500


class WelfareOutcome(StrEnum):
    """What an operator did about a neighbour who did not answer the door."""

    REACHED = "reached"
    VISITED = "visited"
    EMERGENCY_CONTACT_CALLED = "emergency_contact_called"
    ESCALATED = "escalated"


async def vetting_pipeline(
    uow: UnitOfWork, now: datetime, lapse_within: timedelta, *, candidates: int = CANDIDATES
) -> dict[str, Any]:
    """Applicants waiting (an offered skill not approved), each with the steps still needed
    and every step recorded; and approvals lapsing within ``lapse_within``; of the first
    ``candidates`` people with either. ``more_than_shown`` says whether more wait."""
    async with uow.read() as repo:
        # One row past the cut says whether there are more, without counting them all.
        found = await repo.vetting_candidates(now + lapse_within, candidates + 1)
    more = len(found) > candidates
    applicants: list[dict[str, Any]] = []
    lapsing: list[dict[str, Any]] = []
    for person in found[:candidates]:
        approved = {
            Skill(skill): datetime.fromisoformat(until)
            for skill, until in person["approved_skills"].items()
        }
        offered = {Skill(skill) for skill in person["skills"]}
        waiting = sorted(offered - approved.keys())
        latest: dict[str, str] = {}
        for step in person["steps"]:
            latest[step["step"]] = step["outcome"]
        needed = set().union(*(REQUIRED_STEPS[skill] for skill in waiting)) if waiting else set()
        base = {
            "person_id": person["person_id"],
            "display_name": person["display_name"],
            "neighbourhood": person["neighbourhood"],
            "signed_up_at": person["created_at"],
        }
        if waiting:
            applicants.append(
                {
                    **base,
                    "skills_waiting": waiting,
                    "steps_needed": sorted(
                        step.value for step in needed if latest.get(step.value) != "passed"
                    ),
                    "steps": person["steps"],
                }
            )
        for skill, until in sorted(approved.items()):
            if until - now <= lapse_within:
                lapsing.append({**base, "skill": skill, "until": until})
    lapsing.sort(key=lambda row: row["until"])
    return {"applicants": applicants, "lapsing": lapsing, "more_than_shown": more}


async def close_welfare_check(
    uow: UnitOfWork,
    booking_id: uuid.UUID,
    outcome: WelfareOutcome,
    note: str,
    by: str,
    now: datetime,
) -> dict[str, Any]:
    """Close a welfare check with what was done; a 409 when it was closed before."""
    async with uow.begin() as repo:
        found = await repo.welfare_open(booking_id)
        if found is None:
            raise NotFound("no welfare check for that visit")
        if found["outcome"] is not None:
            raise Conflict("that welfare check is closed")
        await repo.close_welfare_check(booking_id, outcome.value, note, by, now)
    return {
        "booking_id": booking_id,
        "neighbour_id": found["neighbour_id"],
        "outcome": outcome,
        "closed_by": by,
        "closed_at": now,
    }


async def welfare_checks(uow: UnitOfWork, limit: int, offset: int) -> list[dict[str, Any]]:
    """A page of welfare checks, newest first, each with its outcome (null while open)."""
    async with uow.read() as repo:
        rows = await repo.welfare_checks(limit, offset)
        closed = await repo.welfare_outcomes([row["booking_id"] for row in rows])
        names = await repo.display_names(
            [row[key] for row in rows for key in ("neighbour_id", "helper_id")]
        )
    for row in rows:
        row["outcome"] = closed.get(row["booking_id"])
        row["neighbour_name"] = names.get(row["neighbour_id"])
        row["helper_name"] = names.get(row["helper_id"])
    return rows
