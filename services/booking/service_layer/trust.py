"""Relationships as people see them, and what operators record and read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.booking.domain.errors import Invalid, NotFound
from services.booking.domain.partners import PersonKind
from services.booking.service_layer.ports import UnitOfWork
from shared.contracts import Envelope, utc_now
from shared.contracts.skills import VettingStep
from shared.contracts.trust import VettingOutcome, VettingStepRecorded

PRODUCER = "booking"


async def my_relationships(
    uow: UnitOfWork, person_id: uuid.UUID, limit: int, offset: int
) -> list[dict[str, Any]]:
    """A page of the people I have met. A pair that is no longer matchable is left out,
    never explained, so nobody learns that the other person said "not again"."""
    async with uow.read() as repo:
        rows = await repo.relationships_of(person_id, limit, offset, matchable_only=True)
        others = [
            row["neighbour_id"] if row["helper_id"] == person_id else row["helper_id"]
            for row in rows
        ]
        names = await repo.display_names(others)
    return [
        {
            "person_id": other,
            "display_name": names.get(other),
            "my_side": "helper" if row["helper_id"] == person_id else "neighbour",
            "stage": row["stage"],
            "visits": row["visits"],
            "hours_together": row["hours_together"],
            "last_visit_at": row["last_visit_at"],
        }
        for row, other in zip(rows, others, strict=True)
    ]


async def all_relationships(
    uow: UnitOfWork, person_id: uuid.UUID | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Operators: a page of trust's full pair records."""
    async with uow.read() as repo:
        rows = await repo.relationships_of(person_id, limit, offset)
    for row in rows:
        row.pop("as_of", None)
    return rows


async def record_vetting_step(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    step: VettingStep,
    outcome: VettingOutcome = VettingOutcome.PASSED,
    reason: str | None = None,
    operator: str | None = None,
    *,
    evidence: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Operators: how a helper did at a vetting step; trust decides what it unlocks. Booking
    keeps the step with its evidence note and reason for the vetting pipeline."""
    if outcome is not VettingOutcome.PASSED and not reason:
        raise Invalid("reason", f"a {outcome.value} step needs a reason")
    async with uow.begin() as repo:
        person = await repo.person(person_id)
        if person is None:
            raise NotFound("no such person")
        event = VettingStepRecorded(
            person_id=person_id,
            step=step,
            outcome=outcome,
            recorded_by="operator" if operator is None else f"operator:{operator}",
            skills_offered=person["skills"],
        )
        envelope = Envelope.wrap(event, producer=PRODUCER)
        if reason:
            # The reason is about a person, for operators: it stays here, not on the topic.
            await repo.add_vetting_reason(
                {
                    "event_id": envelope.event_id,
                    "person_id": person_id,
                    "step": step.value,
                    "outcome": outcome.value,
                    "reason": reason,
                    "recorded_by": event.recorded_by,
                }
            )
        await repo.add_vetting_record(
            {
                "event_id": envelope.event_id,
                "person_id": person_id,
                "step": step.value,
                "outcome": outcome.value,
                "evidence": evidence,
                "reason": reason,
                "recorded_by": event.recorded_by,
                "recorded_at": now or utc_now(),
            }
        )
        await repo.publish([envelope])
    return {
        "person_id": person_id,
        "step": step,
        "outcome": outcome,
        "recorded_by": event.recorded_by,
        "event_id": envelope.event_id,
    }


async def person_for_operators(uow: UnitOfWork, person_id: uuid.UUID) -> dict[str, Any]:
    """Operators: a person's public profile and trust's standing for them; for someone a
    partner referred, each referral with the consent recorded; for a partner's service,
    what it covers."""
    async with uow.read() as repo:
        person = await repo.person(person_id)
        if person is None:
            raise NotFound("no such person")
        standing = await repo.standing(person_id)
        view: dict[str, Any] = {
            "person_id": person_id,
            "display_name": person["display_name"],
            "kind": person["kind"],
            "skills": person["skills"],
            "neighbourhood": person.get("neighbourhood"),
            "standing": standing,
            # Held for review (a sign-up that matched someone erased while suspended).
            "review": await repo.pending_review(person_id),
            # Who raises how many concerns, and about whom: a pattern is an operator's cue.
            "concerns": await repo.concern_counts(person_id),
            # Why steps were failed or revoked: kept here, never on the vetting stream.
            "vetting_reasons": await repo.vetting_reasons_of(person_id),
        }
        assisted = await repo.assisted_sign_up(person_id)
        if assisted is not None:
            # Registered by an operator: by whom, and the consent the person gave.
            view["assisted_sign_up"] = assisted.view()
        if person["kind"] == PersonKind.REFERRED:
            view["referrals"] = [_referral_view(row) for row in await repo.referrals_of(person_id)]
        elif person["kind"] == PersonKind.PARTNER_SERVICE:
            view["partner_service"] = await repo.partner_service(person_id)
    return view


def _referral_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "referral_id": row["referral_id"],
        "partner_id": row["partner_id"],
        "partner_reference": row["partner_reference"],
        "series_id": row["series_id"],
        "referred_at": row["referred_at"],
        "consent": {
            "given_at": row["consent_given_at"],
            "method": row["consent_method"],
            "recorded_by": row["consent_recorded_by"],
        },
    }


async def welfare_checks(uow: UnitOfWork, limit: int, offset: int) -> list[dict[str, Any]]:
    """Operators: a page of visits where the neighbour did not answer the door, with the
    helper's note (kept here: ``welfare.check_requested`` says only whether there is one)."""
    async with uow.read() as repo:
        return await repo.welfare_checks(limit, offset)
