"""Trust through the real broker and database: relationships, replays, standing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from services.trust.bootstrap import TrustService
from shared.contracts import Envelope, utc_now
from shared.contracts.bookings import Side
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import (
    RelationshipChanged,
    RelationshipStage,
    SeeAgain,
    StandingChanged,
    VettingOutcome,
    VettingStepRecorded,
)
from shared.messaging import Publisher
from tests.integration.trust.conftest import Outputs, random_neighbourhood
from tests.integration.trust.events import Pair, vetting_step
from tests.support import eventually


async def test_a_visit_and_two_yes_answers_make_a_first_visit_both_want_again(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    pair = Pair.new(random_neighbourhood())
    events: list[Envelope[Any]] = [
        pair.confirmed(),
        pair.completed(),
        pair.checkin(pair.helper_id, SeeAgain.YES),
        pair.checkin(pair.neighbour_id, SeeAgain.YES),
    ]
    await publisher.publish_many(events)

    async def wanted_again() -> RelationshipChanged | None:
        return next(
            (r for r in outputs.relationships(pair.pair_id) if r.visits == 1 and r.both_want_again),
            None,
        )

    record = await eventually(wanted_again, what="first visit, both want again")
    assert record.stage is RelationshipStage.FIRST_VISIT
    assert record.matchable
    assert record.hours_together == 2
    assert record.last_visit_at == pair.starts_at
    assert record.neighbourhood == pair.neighbourhood
    assert {record.helper_id, record.neighbour_id} == {pair.helper_id, pair.neighbour_id}

    # The same events again (same event ids), and the visit again under a new event id: then
    # a new cancellation on the same partition as the replayed bookings and a new "no" after
    # the replayed check-ins, so that once those two are applied the replays have been too.
    await publisher.publish_many([*events, pair.completed()])
    await publisher.publish_many(
        [pair.cancelled(Side.HELPER), pair.checkin(pair.helper_id, SeeAgain.NO)]
    )

    async def fenced() -> bool:
        async with trust.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT cancellations_by_helper, stage FROM relationships WHERE pair_id = $1",
                pair.pair_id,
            )
        return row is not None and row["cancellations_by_helper"] == 1 and row["stage"] == "ended"

    await eventually(fenced, what="the events sent after the replays")
    async with trust.pool.acquire() as conn:
        visits = await conn.fetchval(
            "SELECT visits FROM relationships WHERE pair_id = $1", pair.pair_id
        )
        answers = await conn.fetchval(
            "SELECT count(*) FROM checkins WHERE pair_id = $1", pair.pair_id
        )
    assert visits == 1
    assert answers == 3
    published = outputs.relationships(pair.pair_id)
    assert all(r.visits <= 1 for r in published)


async def test_a_no_makes_the_pair_unmatchable_and_says_nothing_of_who(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    pair = Pair.new(random_neighbourhood())
    await publisher.publish_many([pair.confirmed(), pair.completed()])
    await publisher.publish_many(
        [
            pair.checkin(pair.helper_id, SeeAgain.YES),
            pair.checkin(pair.neighbour_id, SeeAgain.NO),
        ]
    )

    async def ended() -> RelationshipChanged | None:
        return next((r for r in outputs.relationships(pair.pair_id) if not r.matchable), None)

    record = await eventually(ended, what="the pair no longer matchable")
    assert record.stage is RelationshipStage.ENDED
    assert not record.both_want_again
    published = record.model_dump()
    assert not any("see_again" in name or "reason" in name for name in published)


async def test_a_stale_pair_is_paused_by_the_sweep_and_resumed_by_a_visit(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    pair = Pair.new(random_neighbourhood())
    await publisher.publish_many([pair.confirmed(), pair.completed()])

    async def visited() -> bool:
        return any(r.visits == 1 for r in outputs.relationships(pair.pair_id))

    await eventually(visited, what="the first visit")
    later = pair.starts_at + timedelta(days=trust.policy.rules.pause_after_days + 1)
    assert await trust.sweep.sweep_once(now=later) >= 1

    async def paused() -> bool:
        return any(r.stage is RelationshipStage.PAUSED for r in outputs.relationships(pair.pair_id))

    await eventually(paused, what="the paused record")
    next_visit = replace(pair, booking_id=uuid.uuid4(), starts_at=later)
    await publisher.publish(next_visit.completed())

    async def resumed() -> bool:
        latest = outputs.relationships(pair.pair_id)[-1]
        return latest.stage is RelationshipStage.FIRST_VISIT and latest.visits == 2

    await eventually(resumed, what="the pair resumed by a new visit")


async def test_vetting_steps_publish_the_approved_skills(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    helper = Pair.new(random_neighbourhood()).helper_id
    offered = [Skill.SHOPPING, Skill.PERSONAL_CARE]
    basic = [
        vetting_step(helper, step, offered)
        for step in (VettingStep.IDENTITY, VettingStep.REFERENCES, VettingStep.INTERVIEW)
    ]
    await publisher.publish_many(basic)

    async def basic_approved() -> StandingChanged | None:
        return next((s for s in outputs.standings(helper) if s.approved_skills), None)

    standing = await eventually(basic_approved, what="the basic skills approved")
    assert set(standing.approved_skills) == {Skill.SHOPPING}
    assert not standing.suspended
    # Until the first of its steps lapses (identity never does).
    first_lapsing = min(e.occurred_at for e in basic if e.data.step is not VettingStep.IDENTITY)
    expected = first_lapsing + timedelta(days=trust.settings.vetting_references_valid_days)
    assert abs(standing.approved_skills[Skill.SHOPPING] - expected) < timedelta(seconds=1)

    await publisher.publish(vetting_step(helper, VettingStep.BACKGROUND_CHECK, offered))

    async def enhanced_approved() -> bool:
        return any(set(s.approved_skills) == set(offered) for s in outputs.standings(helper))

    await eventually(enhanced_approved, what="personal care approved after the background check")
    assert len(outputs.standings(helper)) == 2  # the steps that changed nothing published nothing


async def test_a_partners_attested_vetting_counts_like_an_operators(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    # The partners gateway republishes a partner's attestation as an ordinary step, with
    # ``recorded_by`` naming the partner: trust treats it as any other recorded step.
    helper = uuid.uuid4()
    attested_by = f"partner:{uuid.uuid4()}"
    steps = [
        Envelope.wrap(
            VettingStepRecorded(
                person_id=helper, step=step, recorded_by=attested_by, skills_offered=[Skill.LIFT]
            ),
            producer="partners",
        )
        for step in VettingStep
    ]
    await publisher.publish_many(steps)

    async def approved() -> StandingChanged | None:
        return next((s for s in outputs.standings(helper) if s.approved_skills), None)

    standing = await eventually(approved, what="lifts approved on the partner's word")
    assert set(standing.approved_skills) == {Skill.LIFT}
    async with trust.pool.acquire() as conn:
        recorders = await conn.fetch(
            "SELECT DISTINCT recorded_by FROM vetting_steps WHERE person_id = $1", helper
        )
    assert [row["recorded_by"] for row in recorders] == [attested_by]


async def test_recording_identity_again_never_renews_an_old_background_check(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    helper = uuid.uuid4()
    offered = [Skill.LIFT, Skill.SHOPPING]
    lasts = timedelta(days=trust.settings.vetting_background_check_valid_days)
    now = utc_now()
    old_check = now - lasts - timedelta(days=1)
    steps = [
        Envelope.wrap(
            VettingStepRecorded(
                person_id=helper,
                step=VettingStep.BACKGROUND_CHECK,
                recorded_by="operator:test",
                skills_offered=offered,
            ),
            producer="test",
            occurred_at=old_check,
        ),
        *(
            vetting_step(helper, step, offered)
            for step in (VettingStep.IDENTITY, VettingStep.REFERENCES, VettingStep.INTERVIEW)
        ),
    ]
    await publisher.publish_many(steps)

    async def basic_approved() -> StandingChanged | None:
        return next((s for s in outputs.standings(helper) if s.approved_skills), None)

    standing = await eventually(basic_approved, what="shopping approved")
    assert set(standing.approved_skills) == {Skill.SHOPPING}, "the old check counts for nothing"

    # The background check done again brings lifts; revoked, it takes them away again.
    await publisher.publish(vetting_step(helper, VettingStep.BACKGROUND_CHECK, offered))

    async def with_lifts() -> bool:
        return any(set(s.approved_skills) == set(offered) for s in outputs.standings(helper))

    await eventually(with_lifts, what="lifts approved after a fresh check")
    revoked = VettingStepRecorded(
        person_id=helper,
        step=VettingStep.BACKGROUND_CHECK,
        outcome=VettingOutcome.REVOKED,
        recorded_by="operator:test",
        skills_offered=offered,
    )
    await publisher.publish(Envelope.wrap(revoked, producer="test"))

    async def lifts_withdrawn() -> bool:
        latest = outputs.standings(helper)[-1]
        return set(latest.approved_skills) == {Skill.SHOPPING}

    await eventually(lifts_withdrawn, what="lifts withdrawn by the revocation")
    async with trust.pool.acquire() as conn:
        stored = await conn.fetchrow(
            "SELECT outcome, reason, recorded_by FROM vetting_steps WHERE person_id = $1"
            " ORDER BY recorded_at DESC LIMIT 1",
            helper,
        )
    assert stored is not None
    # Why it was revoked stays with whoever recorded it (booking, for operators).
    assert dict(stored) == {"outcome": "revoked", "reason": None, "recorded_by": "operator:test"}
