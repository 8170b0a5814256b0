"""A deleted account reaches trust as ``PersonErased``: through the real broker and trust's real
database, its pairs end, what it held of the person goes (concerns stay, without their texts),
its standing is tombstoned, and events about them that come later record nothing of theirs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from services.trust.bootstrap import TrustService
from shared.contracts import Envelope, encode, key_for, topic_for
from shared.contracts.people import PersonErased
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.topics import STANDING
from shared.contracts.trust import RelationshipStage, SeeAgain
from shared.messaging import Publisher
from tests.integration.trust.conftest import Outputs, random_neighbourhood
from tests.integration.trust.events import Pair, concern, on_the_hour, profile, vetting_step
from tests.support import eventually
from tests.traces import traces

BASIC = (VettingStep.IDENTITY, VettingStep.REFERENCES, VettingStep.INTERVIEW)


def _v1_with_text(envelope: Envelope, **texts: str) -> tuple[str, bytes, bytes, str]:  # type: ignore[type-arg]
    """The event as its version 1, written before texts stopped travelling: with a text."""
    document = json.loads(encode(envelope))
    document["version"] = 1
    data = {name: value for name, value in document["data"].items() if name != "has_note"}
    document["data"] = {**data, **texts}
    topic = topic_for(envelope.data).name
    return topic, key_for(envelope.data), json.dumps(document).encode(), envelope.type


async def _applied(trust: TrustService, query: str, *args: object) -> bool:
    async with trust.pool.acquire() as conn:
        return bool(await conn.fetchval(query, *args))


async def test_an_erased_person_s_pairs_end_and_nothing_of_theirs_stays(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    run = uuid.uuid4().hex[:8]
    marks = {
        "their_note": f"lovely tea {run}",
        "note_about_them": f"very punctual {run}",
        "concern_about_them": f"raised voice {run}",
        "their_concern": f"left the door open {run}",
        "late_note": f"after the end {run}",
        "late_concern": f"after the end too {run}",
    }
    pair = Pair.new(random_neighbourhood())
    erased = pair.helper_id
    await publisher.publish_many(
        [
            profile(erased, pair.neighbourhood, [Skill.SHOPPING]),
            *(vetting_step(erased, step, [Skill.SHOPPING]) for step in BASIC),
            pair.confirmed(),
            pair.completed(),
        ]
    )
    await publisher.send_encoded(
        [
            _v1_with_text(pair.checkin(erased, SeeAgain.YES), note=marks["their_note"]),
            _v1_with_text(
                pair.checkin(pair.neighbour_id, SeeAgain.YES), note=marks["note_about_them"]
            ),
            _v1_with_text(concern(erased, pair.neighbour_id), summary=marks["concern_about_them"]),
            _v1_with_text(concern(pair.neighbour_id, erased), summary=marks["their_concern"]),
        ]
    )

    async def everything_held() -> bool:
        held = await _applied(
            trust,
            "SELECT count(*) = 4 FROM (SELECT note FROM checkins WHERE pair_id = $1"
            " UNION ALL SELECT summary FROM concerns WHERE about_id = $2 OR raised_by_id = $2) t",
            pair.pair_id,
            erased,
        )
        return held and any(s.approved_skills for s in outputs.standings(erased))

    await eventually(everything_held, what="trust to hold the person's visit, notes and concerns")

    await publisher.publish(
        Envelope.wrap(
            PersonErased(person_id=erased, neighbourhood=pair.neighbourhood), producer="test"
        )
    )

    async def ended() -> bool:
        records = outputs.relationships(pair.pair_id)
        return bool(records) and records[-1].stage is RelationshipStage.ENDED

    await eventually(ended, what="the pair ended")
    assert not outputs.relationships(pair.pair_id)[-1].matchable

    async def tombstoned() -> bool:
        return any(
            r.topic == STANDING.name and r.key == str(erased).encode() and r.value is None
            for r in outputs.records
        )

    await eventually(tombstoned, what="a tombstone under the person on the standing stream")

    # Events about them that arrive later (other streams are read in another order).
    late_pair = Pair(
        erased, uuid.uuid4(), pair.neighbourhood, uuid.uuid4(), uuid.uuid4(), on_the_hour()
    )
    late: list[Envelope[Any]] = [
        vetting_step(erased, VettingStep.BACKGROUND_CHECK, [Skill.PERSONAL_CARE]),
        concern(pair.neighbour_id, erased),
        late_pair.confirmed(),
        pair.checkin(erased, SeeAgain.NO),
    ]
    await publisher.publish_many([late[0], late[2]])
    await publisher.send_encoded(
        [
            _v1_with_text(late[1], summary=marks["late_concern"]),
            _v1_with_text(late[3], note=marks["late_note"]),
        ]
    )

    async def late_applied() -> bool:
        # Each event is in the inbox exactly when its effects are committed.
        return await _applied(
            trust,
            "SELECT count(*) = $2 FROM inbox WHERE event_id = ANY($1::uuid[])",
            [envelope.event_id for envelope in late],
            len(late),
        )

    await eventually(late_applied, what="the late events applied")

    async with trust.pool.acquire() as conn:
        left = await traces(conn, marks.values())
        kept = await conn.fetch(
            "SELECT summary, raised_by_id, about_id FROM concerns"
            " WHERE about_id = $1 OR raised_by_id = $1",
            erased,
        )
        pairs = await conn.fetch(
            "SELECT pair_id, stage, helper_see_again, neighbour_see_again, visits"
            " FROM relationships WHERE helper_id = $1",
            erased,
        )
        own = await conn.fetchval(
            "SELECT (SELECT count(*) FROM checkins WHERE author_id = $1)"
            " + (SELECT count(*) FROM vetting_steps WHERE person_id = $1)"
            " + (SELECT count(*) FROM people WHERE person_id = $1)",
            erased,
        )
    assert left == []
    # Safeguarding keeps each concern's existence, not its text.
    assert len(kept) == 3
    assert {row["summary"] for row in kept} == {None}
    assert own == 0
    by_pair = {row["pair_id"]: row for row in pairs}
    assert by_pair[pair.pair_id]["stage"] == "ended"
    assert by_pair[pair.pair_id]["visits"] == 1, "the other side's history stays"
    assert by_pair[pair.pair_id]["helper_see_again"] is None
    assert by_pair[pair.pair_id]["neighbour_see_again"] == "yes"
    assert by_pair[late_pair.pair_id]["stage"] == "ended", "a late visit introduces it ended"
    # Nothing was published about them after the tombstone: no standing brought back.
    tombstone_at = next(
        r.offset
        for r in outputs.records
        if r.topic == STANDING.name and r.key == str(erased).encode() and r.value is None
    )
    later = [
        r
        for r in outputs.records
        if r.topic == STANDING.name and r.key == str(erased).encode() and r.offset > tombstone_at
    ]
    assert later == []


async def test_person_erased_twice_changes_nothing_more(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    pair = Pair.new(random_neighbourhood())
    erasure = PersonErased(person_id=pair.neighbour_id, neighbourhood=pair.neighbourhood)
    await publisher.publish_many([pair.confirmed(), Envelope.wrap(erasure, producer="test")])

    async def ended() -> bool:
        records = outputs.relationships(pair.pair_id)
        return bool(records) and records[-1].stage is RelationshipStage.ENDED

    await eventually(ended, what="the pair ended")
    async with trust.pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM outbox")

    fence = profile(uuid.uuid4(), pair.neighbourhood, [Skill.COMPANY])
    await publisher.publish_many([Envelope.wrap(erasure, producer="test"), fence])
    await eventually(
        lambda: _applied(
            trust, "SELECT true FROM people WHERE person_id = $1", fence.data.person_id
        ),
        what="the fence applied",
    )

    async with trust.pool.acquire() as conn:
        after = await conn.fetchval("SELECT count(*) FROM outbox")
        erased = await conn.fetchval(
            "SELECT count(*) FROM erased_people WHERE person_id = $1", pair.neighbour_id
        )
    assert erased == 1
    assert after == before, "a second erasure publishes nothing (no pair, no tombstone again)"
