"""Apply consumed events to trust's state, and publish what changed, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from services.trust.domain import relationship as rel
from services.trust.domain.relationship import Relationship, Rules
from services.trust.domain.standing import Standing, approvals
from services.trust.service_layer.ports import TrustUnitOfWork, UnitOfWorkFactory
from shared.contracts import Envelope, Payload, pair_key, utc_now
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    OfferDeclined,
    VisitCheckedIn,
    VisitCompleted,
)
from shared.contracts.people import PersonProfileChanged
from shared.contracts.trust import (
    CheckInSubmitted,
    RelationshipChanged,
    StandingChanged,
    VettingStepRecorded,
)

PRODUCER = "trust"
# The sweep pauses at most this many pairs per transaction; it runs again soon after.
_SWEEP_BATCH = 500


class InvalidEvent(ValueError):
    """An event trust can never apply (for example, a check-in by neither person)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings trust's handlers apply."""

    rules: Rules
    vetting_valid_days: int = 365


async def handle(
    envelope: Envelope[Payload], uow_factory: UnitOfWorkFactory, policy: Policy, consumer: str
) -> bool:
    """Apply one event once; False when it was applied before (or is of no interest)."""
    data = envelope.data
    if isinstance(data, OfferDeclined | VisitCheckedIn):
        return False
    async with uow_factory() as uow:
        if not await uow.first_delivery(consumer, envelope.event_id):
            return False
        if isinstance(data, BookingConfirmed):
            await _booking_confirmed(uow, envelope, data)
        elif isinstance(data, VisitCompleted):
            await _visit_completed(uow, envelope, data, policy)
        elif isinstance(data, BookingCancelled):
            await _booking_cancelled(uow, envelope, data)
        elif isinstance(data, CheckInSubmitted):
            await _checkin_submitted(uow, envelope, data, policy)
        elif isinstance(data, VettingStepRecorded):
            await _vetting_step_recorded(uow, envelope, data, policy)
        elif isinstance(data, PersonProfileChanged):
            await uow.set_skills(data.person_id, profile=list(data.skills))
            await _recompute_standing(uow, envelope, data.person_id, policy)
        return True


async def pause_stale(uow_factory: UnitOfWorkFactory, rules: Rules, *, now: datetime) -> int:
    """Pause every pair that has met but had no visit for a while; return how many."""
    paused = 0
    async with uow_factory() as uow:
        for before in await uow.stale_relationships(rel.stale_before(now, rules), _SWEEP_BATCH):
            after = rel.pause_if_stale(before, now=now, rules=rules)
            if after != before:
                await uow.save_relationship(after, new=False)
                uow.publish(Envelope.wrap(relationship_changed(after), producer=PRODUCER))
                paused += 1
    return paused


def relationship_changed(relationship: Relationship) -> RelationshipChanged:
    """The public view of a pair. Answers, cancellations and why it ended stay private."""
    return RelationshipChanged(
        pair_id=relationship.pair_id,
        helper_id=relationship.helper_id,
        neighbour_id=relationship.neighbour_id,
        neighbourhood=relationship.neighbourhood,
        stage=relationship.stage,
        visits=relationship.visits,
        hours_together=relationship.hours_together,
        both_want_again=relationship.both_want_again,
        matchable=relationship.matchable,
        last_visit_at=relationship.last_visit_at,
    )


async def _load_or_introduce(
    uow: TrustUnitOfWork, helper_id: uuid.UUID, neighbour_id: uuid.UUID, neighbourhood: str
) -> tuple[Relationship, bool]:
    # Bookings and check-ins travel on different topics, so a check-in or a completion may
    # arrive before the booking that introduced the pair: any of them introduces it.
    found = await uow.relationship(pair_key(helper_id, neighbour_id))
    if found is not None:
        return found, False
    try:
        return rel.introduce(helper_id, neighbour_id, neighbourhood), True
    except ValueError as error:
        raise InvalidEvent(str(error)) from error


async def _store(
    uow: TrustUnitOfWork,
    cause: Envelope[Payload],
    before: Relationship,
    after: Relationship,
    *,
    new: bool,
) -> None:
    if not new and after == before:
        return
    await uow.save_relationship(after, new=new)
    uow.publish(cause.caused(relationship_changed(after), producer=PRODUCER))


async def _booking_confirmed(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: BookingConfirmed
) -> None:
    found, new = await _load_or_introduce(
        uow, data.helper_id, data.neighbour_id, data.neighbourhood
    )
    await _store(uow, envelope, found, found, new=new)


async def _visit_completed(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: VisitCompleted, policy: Policy
) -> None:
    before, new = await _load_or_introduce(
        uow, data.helper_id, data.neighbour_id, data.neighbourhood
    )
    after = before
    # One booking is one visit, even if its completion is sent again under a new event id.
    if await uow.count_visit(data.booking_id, before.pair_id):
        after = rel.complete_visit(before, at=data.starts_at, hours=data.hours, rules=policy.rules)
    await _store(uow, envelope, before, after, new=new)


async def _booking_cancelled(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: BookingCancelled
) -> None:
    before, new = await _load_or_introduce(
        uow, data.helper_id, data.neighbour_id, data.neighbourhood
    )
    by = rel.canceller(data.helper_id, data.neighbour_id, data.cancelled_by)
    await _store(uow, envelope, before, rel.cancel(before, by=by), new=new)


async def _checkin_submitted(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: CheckInSubmitted, policy: Policy
) -> None:
    people = {data.helper_id, data.neighbour_id}
    if data.author_id not in people or data.about_id not in people:
        raise InvalidEvent("a check-in's author and subject must be the visit's two people")
    if data.author_id == data.about_id:
        raise InvalidEvent("a check-in cannot be about its own author")
    if not await uow.record_checkin(data, submitted_at=envelope.occurred_at):
        return
    before, new = await _load_or_introduce(
        uow, data.helper_id, data.neighbour_id, data.neighbourhood
    )
    after = rel.answer_see_again(
        before, author_id=data.author_id, answer=data.see_again, rules=policy.rules
    )
    await _store(uow, envelope, before, after, new=new)


async def _vetting_step_recorded(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: VettingStepRecorded, policy: Policy
) -> None:
    await uow.record_vetting_step(
        envelope.event_id,
        data.person_id,
        data.step,
        recorded_by=data.recorded_by,
        recorded_at=envelope.occurred_at,
    )
    if data.skills_offered:
        await uow.set_skills(data.person_id, vetting=list(data.skills_offered))
    await _recompute_standing(uow, envelope, data.person_id, policy)


async def _recompute_standing(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], person_id: uuid.UUID, policy: Policy
) -> None:
    before = await uow.standing(person_id)
    approved = approvals(
        await uow.passed_steps(person_id),
        await uow.offered_skills(person_id),
        valid_days=policy.vetting_valid_days,
        now=utc_now(),
    )
    after = replace(before, approved=approved)
    if dict(after.approved) == dict(before.approved) and after.suspended == before.suspended:
        return
    await uow.save_standing(after)
    uow.publish(envelope.caused(_standing_changed(after), producer=PRODUCER))


def _standing_changed(standing: Standing) -> StandingChanged:
    return StandingChanged(
        person_id=standing.person_id,
        suspended=standing.suspended,
        approved_skills=dict(standing.approved),
    )
