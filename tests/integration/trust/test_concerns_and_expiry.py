"""Concerns, lapsing approvals and operators' counts, through the real broker and database."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.trust.bootstrap import TrustService
from shared.contracts.bookings import Side
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import ConcernOutcome, RelationshipStage, StandingChanged
from shared.messaging import Publisher
from tests.integration.trust.conftest import Outputs, random_neighbourhood
from tests.integration.trust.events import Pair, concern, resolution, vetting_step
from tests.support import eventually

BASIC = (VettingStep.IDENTITY, VettingStep.REFERENCES, VettingStep.INTERVIEW)


async def test_a_concern_suspends_at_once_and_reinstating_lifts_it(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    pair = Pair.new(random_neighbourhood())
    await publisher.publish_many([vetting_step(pair.helper_id, s, [Skill.SHOPPING]) for s in BASIC])

    async def approved() -> bool:
        return any(s.approved_skills for s in outputs.standings(pair.helper_id))

    await eventually(approved, what="the helper approved")
    raised = concern(pair.helper_id, raised_by_id=pair.neighbour_id)
    await publisher.publish(raised)

    async def suspended() -> StandingChanged | None:
        return next((s for s in outputs.standings(pair.helper_id) if s.suspended), None)

    standing = await eventually(suspended, timeout_s=10, what="the helper suspended")
    assert Skill.SHOPPING in standing.approved_skills, "a suspension keeps the vetting"

    await publisher.publish(resolution(raised.data, ConcernOutcome.REINSTATE))

    async def reinstated() -> bool:
        published = outputs.standings(pair.helper_id)
        return (
            bool(published) and not published[-1].suspended and any(s.suspended for s in published)
        )

    await eventually(reinstated, timeout_s=10, what="the helper reinstated")
    async with trust.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT outcome, reason FROM concerns WHERE concern_id = $1", raised.data.concern_id
        )
    assert row is not None
    assert row["outcome"] == "reinstate"
    # The resolution's reason stays in booking, which wrote it: no topic carries it to trust.
    assert not row["reason"]


async def test_one_of_two_open_concerns_resolved_keeps_the_suspension(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    person = Pair.new(random_neighbourhood()).helper_id
    first, second = concern(person), concern(person)
    await publisher.publish_many([first, second, resolution(first.data, ConcernOutcome.REINSTATE)])
    # A later, unrelated change to the same person fences the three events above.
    await publisher.publish(vetting_step(person, VettingStep.IDENTITY, [Skill.COMPANY]))

    async def fenced() -> bool:
        async with trust.pool.acquire() as conn:
            steps = await conn.fetchval(
                "SELECT count(*) FROM vetting_steps WHERE person_id = $1", person
            )
        return bool(steps)

    await eventually(fenced, what="the events about the person applied")

    async def all_published() -> bool:
        async with trust.pool.acquire() as conn:
            waiting = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return bool(waiting == 0)

    # The relay publishes after the commit: wait until it has sent everything, then read it.
    await eventually(all_published, what="trust's outbox published")

    async def standings() -> list[StandingChanged] | None:
        return outputs.standings(person) or None

    published = await eventually(standings, what="the person's standing published")
    assert all(s.suspended for s in published)


async def test_removing_someone_keeps_them_suspended_and_ends_their_pairs(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    neighbourhood = random_neighbourhood()
    pair = Pair.new(neighbourhood)
    other = Pair.new(neighbourhood)
    other = Pair(
        pair.helper_id,
        other.neighbour_id,
        neighbourhood,
        other.booking_id,
        other.request_id,
        other.starts_at,
    )
    await publisher.publish_many([pair.confirmed(), pair.completed(), other.confirmed()])

    async def both_known() -> bool:
        return bool(outputs.relationships(pair.pair_id)) and bool(
            outputs.relationships(other.pair_id)
        )

    await eventually(both_known, what="the helper's two pairs")
    raised = concern(pair.helper_id)
    await publisher.publish_many([raised, resolution(raised.data, ConcernOutcome.REMOVE)])

    async def ended() -> bool:
        return all(
            (records := outputs.relationships(p))
            and not records[-1].matchable
            and records[-1].stage is RelationshipStage.ENDED
            for p in (pair.pair_id, other.pair_id)
        )

    await eventually(ended, timeout_s=10, what="both pairs ended")
    published = outputs.standings(pair.helper_id)
    assert published
    assert published[-1].suspended, "a removed person stays suspended"

    # A visit booked before the removal introduces a new pair: it starts ended.
    late = Pair.new(neighbourhood)
    late = Pair(
        pair.helper_id,
        late.neighbour_id,
        neighbourhood,
        late.booking_id,
        late.request_id,
        late.starts_at,
    )
    await publisher.publish(late.confirmed())

    async def late_pair() -> bool:
        records = outputs.relationships(late.pair_id)
        return bool(records) and not records[-1].matchable

    await eventually(late_pair, what="a new pair of a removed person, unmatchable")


async def test_a_lapsed_approval_is_republished_and_a_renewal_restores_it(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    helper = Pair.new(random_neighbourhood()).helper_id
    steps = [vetting_step(helper, s, [Skill.SHOPPING]) for s in BASIC]
    await publisher.publish_many(steps)

    async def approved() -> StandingChanged | None:
        return next((s for s in outputs.standings(helper) if s.approved_skills), None)

    standing = await eventually(approved, what="shopping approved")
    expires = standing.approved_skills[Skill.SHOPPING]
    assert await trust.expiry_sweep.sweep_once(now=expires + timedelta(seconds=1)) >= 1

    async def lapsed() -> bool:
        published = outputs.standings(helper)
        return len(published) >= 2 and Skill.SHOPPING not in published[-1].approved_skills

    await eventually(lapsed, what="the standing without shopping")
    assert await trust.expiry_sweep.sweep_once(now=expires + timedelta(seconds=2)) == 0

    # The steps recorded again (now, in the test's present) bring the skill back.
    await publisher.publish_many([vetting_step(helper, s, [Skill.SHOPPING]) for s in BASIC])

    async def renewed() -> bool:
        published = outputs.standings(helper)
        return len(published) >= 3 and Skill.SHOPPING in published[-1].approved_skills

    await eventually(renewed, what="shopping approved again")


async def test_late_cancellations_and_no_shows_are_counted_once_per_person(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    pair = Pair.new(random_neighbourhood())
    late = pair.cancelled(Side.HELPER, late=True)
    no_show = pair.no_show(Side.NEIGHBOUR)
    # Each sent twice under different event ids: still one mark each.
    await publisher.publish_many(
        [
            late,
            late.model_copy(update={"event_id": uuid.uuid4()}),
            pair.cancelled(Side.HELPER, late=False),
            no_show,
            pair.no_show(Side.NEIGHBOUR),
        ]
    )
    # Then one more, on the same partition: once it is counted, so are the ones before.
    await publisher.publish(pair.cancelled(Side.NEIGHBOUR, late=True))

    async def fenced() -> bool:
        published = outputs.standings(pair.neighbour_id)
        return bool(published) and published[-1].late_cancellations == 1

    await eventually(fenced, what="the neighbour's late cancellation")
    async with trust.pool.acquire() as conn:
        rel = await conn.fetchrow(
            "SELECT no_shows_by_neighbour, cancellations_by_helper FROM relationships"
            " WHERE pair_id = $1",
            pair.pair_id,
        )
    assert rel is not None
    assert rel["no_shows_by_neighbour"] == 1
    helper = outputs.standings(pair.helper_id)[-1]
    assert (helper.late_cancellations, helper.no_shows) == (1, 0)
    neighbour = outputs.standings(pair.neighbour_id)[-1]
    assert (neighbour.late_cancellations, neighbour.no_shows) == (1, 1)
