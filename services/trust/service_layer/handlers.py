"""Apply consumed events to trust's state, and publish what changed, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.trust.domain import relationship as rel
from services.trust.domain.concerns import resolution_applies
from services.trust.domain.relationship import Relationship, Rules
from services.trust.domain.standing import DEFAULT_VALIDITY, Standing, approvals, is_suspended
from services.trust.service_layer import erasure
from services.trust.service_layer.ports import TrustUnitOfWork
from shared.contracts import Envelope, Payload, pair_key, utc_now
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    OfferDeclined,
    VisitCheckedIn,
    VisitCompleted,
    VisitNoShow,
    VisitNoShowV2,
)
from shared.contracts.people import PersonErased, PersonProfileChanged
from shared.contracts.skills import VettingStep
from shared.contracts.trust import (
    CheckInSubmitted,
    ConcernOutcome,
    ConcernRaised,
    ConcernResolved,
    RelationshipChanged,
    StandingChanged,
    VettingStepRecorded,
)
from shared.unit_of_work import UnitOfWorkStarter

PRODUCER = "trust"
# The sweep pauses at most this many pairs per transaction; it runs again soon after.
_SWEEP_BATCH = 500


class InvalidEvent(ValueError):
    """An event trust can never apply (for example, a check-in by neither person)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings trust's handlers apply."""

    rules: Rules
    #: How long a pass of each vetting step counts; None for good (identity).
    vetting_validity: Mapping[VettingStep, timedelta | None] = field(
        default_factory=lambda: dict(DEFAULT_VALIDITY)
    )

    @property
    def shortest_validity(self) -> timedelta:
        """The shortest time any step counts: how often an approval may lapse at most."""
        return min(
            (lasts for lasts in self.vetting_validity.values() if lasts is not None),
            default=timedelta(days=365),
        )


async def handle(
    envelope: Envelope[Payload],
    start: UnitOfWorkStarter[TrustUnitOfWork],
    policy: Policy,
    consumer: str,
) -> bool:
    """Apply one event once; False when it was applied before (or is of no interest)."""
    data = envelope.data
    if isinstance(data, OfferDeclined | VisitCheckedIn):
        return False
    async with start() as uow:
        if not await uow.first_delivery(consumer, envelope.event_id):
            return False
        if await erasure.ignored(uow, data):
            return True
        if isinstance(data, BookingConfirmed):
            await _booking_confirmed(uow, envelope, data)
        elif isinstance(data, VisitCompleted):
            await _visit_completed(uow, envelope, data, policy)
        elif isinstance(data, BookingCancelled):
            await _booking_cancelled(uow, envelope, data, policy)
        elif isinstance(data, VisitNoShow | VisitNoShowV2):
            # Either version: who reported it (or that nobody did) does not change its meaning.
            await _visit_no_show(uow, envelope, data, policy)
        elif isinstance(data, ConcernRaised):
            await _concern_raised(uow, envelope, data, policy)
        elif isinstance(data, ConcernResolved):
            await _concern_resolved(uow, envelope, data, policy)
        elif isinstance(data, CheckInSubmitted):
            await _checkin_submitted(uow, envelope, data, policy)
        elif isinstance(data, VettingStepRecorded):
            await _vetting_step_recorded(uow, envelope, data, policy)
        elif isinstance(data, PersonProfileChanged):
            await uow.set_skills(data.person_id, profile=list(data.skills))
            await _recompute_standing(uow, envelope, data.person_id, policy)
        elif isinstance(data, PersonErased):
            await erasure.person_erased(uow, envelope, data, _store_existing)
        # Streams are read in no order between them: an event about someone erased meanwhile
        # may still have recorded something of theirs.
        await erasure.scrub_named(uow, data)
        return True


async def pause_stale(
    start: UnitOfWorkStarter[TrustUnitOfWork], rules: Rules, *, now: datetime
) -> int:
    """Pause every pair that has met but had no visit for a while; return how many."""
    paused = 0
    async with start() as uow:
        for before in await uow.stale_relationships(rel.stale_before(now, rules), _SWEEP_BATCH):
            after = rel.pause_if_stale(before, now=now, rules=rules)
            if after != before:
                await uow.save_relationship(after, new=False)
                uow.publish(Envelope.wrap(relationship_changed(after), producer=PRODUCER))
                paused += 1
    return paused


async def expire_approvals(
    start: UnitOfWorkStarter[TrustUnitOfWork], policy: Policy, *, now: datetime
) -> int:
    """Republish the standing of everyone whose approval lapsed by ``now``; return how many.

    Matching already refuses an approval that ends before a visit; this makes the lapse
    visible everywhere (operators, booking) and leaves the compacted standing stream true.
    """
    async with start() as uow:
        due = await uow.due_expiries(now, _SWEEP_BATCH)
        for person_id in due:
            await _recompute_standing(uow, None, person_id, policy, now=now)
    return len(due)


async def next_expiry(start: UnitOfWorkStarter[TrustUnitOfWork]) -> datetime | None:
    """When the earliest published approval lapses."""
    async with start() as uow:
        return await uow.next_expiry()


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
        introduced = rel.introduce(helper_id, neighbour_id, neighbourhood)
    except ValueError as error:
        raise InvalidEvent(str(error)) from error
    # A visit booked before an operator removed someone (or before their account was
    # deleted) may still complete: the pair it introduces is ended from the start.
    for person_id in (helper_id, neighbour_id):
        if (await uow.suspension(person_id))[1]:
            return rel.end(introduced), True
    if await uow.erased_among({helper_id, neighbour_id}):
        return rel.end(introduced), True
    return introduced, True


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


async def _store_existing(
    uow: TrustUnitOfWork, cause: Envelope[Payload], before: Relationship, after: Relationship
) -> None:
    await _store(uow, cause, before, after, new=False)


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
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: BookingCancelled, policy: Policy
) -> None:
    before, new = await _load_or_introduce(
        uow, data.helper_id, data.neighbour_id, data.neighbourhood
    )
    by = rel.canceller(data.helper_id, data.neighbour_id, data.cancelled_by)
    await _store(uow, envelope, before, rel.cancel(before, by=by), new=new)
    if data.late and await uow.count_mark(data.booking_id, "late_cancellation"):
        await _recompute_standing(uow, envelope, by, policy, late_cancellations=1)


async def _visit_no_show(
    uow: TrustUnitOfWork,
    envelope: Envelope[Payload],
    data: VisitNoShow | VisitNoShowV2,
    policy: Policy,
) -> None:
    if not await uow.count_mark(data.booking_id, "no_show"):
        return
    before, new = await _load_or_introduce(
        uow, data.helper_id, data.neighbour_id, data.neighbourhood
    )
    absent = rel.canceller(data.helper_id, data.neighbour_id, data.absent)
    await _store(uow, envelope, before, rel.no_show(before, absent=absent), new=new)
    await _recompute_standing(uow, envelope, absent, policy, no_shows=1)


async def _concern_raised(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: ConcernRaised, policy: Policy
) -> None:
    if data.raised_by_id == data.about_id:
        raise InvalidEvent("a concern cannot be about the person who raised it")
    if await uow.record_concern(data, raised_at=envelope.occurred_at):
        await _recompute_standing(uow, envelope, data.about_id, policy)


async def _concern_resolved(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: ConcernResolved, policy: Policy
) -> None:
    # Both events are keyed by the person, so a concern is always raised before resolved.
    concern = await uow.concern(data.concern_id)
    if concern is None:
        raise InvalidEvent(f"concern {data.concern_id} was never raised")
    try:
        if not resolution_applies(concern, data.about_id):
            return
    except ValueError as error:
        raise InvalidEvent(str(error)) from error
    await uow.resolve_concern(
        data.concern_id,
        data.outcome,
        resolved_by=data.resolved_by,
        resolved_at=envelope.occurred_at,
    )
    if data.outcome is ConcernOutcome.REMOVE:
        await uow.set_removed(data.about_id)
        for before in await uow.relationships_of(data.about_id):
            await _store(uow, envelope, before, rel.end(before), new=False)
    await _recompute_standing(uow, envelope, data.about_id, policy)


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
        outcome=data.outcome,
        recorded_by=data.recorded_by,
        recorded_at=envelope.occurred_at,
    )
    if data.skills_offered:
        await uow.set_skills(data.person_id, vetting=list(data.skills_offered))
    await _recompute_standing(uow, envelope, data.person_id, policy)


async def _recompute_standing(
    uow: TrustUnitOfWork,
    cause: Envelope[Payload] | None,
    person_id: uuid.UUID,
    policy: Policy,
    *,
    now: datetime | None = None,
    late_cancellations: int = 0,
    no_shows: int = 0,
) -> None:
    """Work out a person's whole standing again; publish it if anything changed (never for
    an erased person: their standing was tombstoned)."""
    if await uow.erased_among({person_id}):
        return
    before = await uow.standing(person_id)
    open_concerns, removed = await uow.suspension(person_id)
    after = replace(
        before,
        suspended=is_suspended(open_concerns=open_concerns, removed=removed),
        approved=approvals(
            await uow.latest_steps(person_id),
            await uow.offered_skills(person_id),
            validity=policy.vetting_validity,
            now=now or utc_now(),
        ),
        late_cancellations=before.late_cancellations + late_cancellations,
        no_shows=before.no_shows + no_shows,
    )
    if after == before:
        return
    await uow.save_standing(after)
    event = _standing_changed(after)
    uow.publish(
        Envelope.wrap(event, producer=PRODUCER)
        if cause is None
        else cause.caused(event, producer=PRODUCER)
    )


def _standing_changed(standing: Standing) -> StandingChanged:
    return StandingChanged(
        person_id=standing.person_id,
        suspended=standing.suspended,
        approved_skills=dict(standing.approved),
        late_cancellations=standing.late_cancellations,
        no_shows=standing.no_shows,
    )
