"""A malformed message on any stream trust reads is dead-lettered; the next one is applied."""

from __future__ import annotations

import json
import uuid

from aiokafka import AIOKafkaProducer

from services.trust.bootstrap import TrustService
from shared.contracts import encode
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.topics import BOOKINGS, CHECKINS, PEOPLE, VETTING
from shared.contracts.trust import RelationshipStage, SeeAgain
from shared.messaging import DeadLetter, Publisher
from tests.integration.trust.conftest import Outputs, random_neighbourhood
from tests.integration.trust.events import Pair, profile, vetting_step
from tests.support import eventually


async def test_malformed_messages_are_dead_lettered_and_trust_carries_on(
    trust: TrustService, publisher: Publisher, raw_producer: AIOKafkaProducer, outputs: Outputs
) -> None:
    hood = random_neighbourhood()
    booked, checked_in = Pair.new(hood), Pair.new(hood)
    vetted, profiled = uuid.uuid4(), uuid.uuid4()
    # Steps sent before the bad messages, so that what comes after them changes a standing.
    await publisher.publish_many(
        [
            vetting_step(vetted, VettingStep.IDENTITY, [Skill.DOG_WALKING]),
            vetting_step(vetted, VettingStep.REFERENCES, [Skill.DOG_WALKING]),
            *(
                vetting_step(profiled, step)
                for step in (VettingStep.IDENTITY, VettingStep.REFERENCES, VettingStep.INTERVIEW)
            ),
        ]
    )

    bad_checkin = json.loads(encode(checked_in.checkin(checked_in.helper_id, SeeAgain.YES)))
    bad_checkin["data"]["see_again"] = "maybe"
    wrong_topic = json.loads(encode(booked.confirmed()))
    no_data = json.loads(encode(profile(profiled, hood, [Skill.GARDENING])))
    del no_data["data"]
    bad = {
        BOOKINGS.name: b"{not json",
        CHECKINS.name: json.dumps(bad_checkin).encode(),
        VETTING.name: json.dumps(wrong_topic).encode(),
        PEOPLE.name: json.dumps(no_data).encode(),
    }
    markers = {topic: f"bad-{uuid.uuid4()}".encode() for topic in bad}
    for topic, value in bad.items():
        await raw_producer.send_and_wait(topic, value, key=markers[topic])

    await publisher.publish_many(
        [
            booked.confirmed(),
            checked_in.checkin(checked_in.neighbour_id, SeeAgain.YES),
            vetting_step(vetted, VettingStep.INTERVIEW, [Skill.DOG_WALKING]),
            profile(profiled, hood, [Skill.GARDENING]),
        ]
    )

    letters: dict[str, DeadLetter] = {}

    async def all_dead_lettered() -> bool:
        for topic, key in markers.items():
            letter = outputs.dead_letter(key)
            if letter is not None:
                letters[topic] = letter
        return len(letters) == len(markers)

    await eventually(all_dead_lettered, what="a dead letter from each consumed topic")
    for topic, letter in letters.items():
        assert letter.topic == topic
        assert letter.consumer == "trust"
        assert letter.value == bad[topic]
    assert letters[BOOKINGS.name].reason.startswith("not JSON")
    assert "see_again" in letters[CHECKINS.name].reason
    assert "does not belong on kith.vetting.v1" in letters[VETTING.name].reason
    assert "data" in letters[PEOPLE.name].reason

    async def all_applied() -> bool:
        return (
            any(
                r.stage is RelationshipStage.INTRODUCED
                for r in outputs.relationships(booked.pair_id)
            )
            and bool(outputs.relationships(checked_in.pair_id))
            and any(Skill.DOG_WALKING in s.approved_skills for s in outputs.standings(vetted))
            and any(Skill.GARDENING in s.approved_skills for s in outputs.standings(profiled))
        )

    await eventually(all_applied, what="the valid message after each malformed one")


async def test_a_checkin_by_neither_person_is_rejected(
    trust: TrustService, publisher: Publisher, outputs: Outputs
) -> None:
    pair = Pair.new(random_neighbourhood())
    stranger = pair.checkin(pair.helper_id, SeeAgain.NO)
    stranger = stranger.model_copy(
        update={"data": stranger.data.model_copy(update={"author_id": uuid.uuid4()})}
    )
    await publisher.publish(stranger)

    async def rejected() -> DeadLetter | None:
        return outputs.dead_letter(pair.pair_id.encode())

    letter = await eventually(rejected, what="the stranger's check-in dead-lettered")
    assert letter.reason.startswith("rejected by handler")
    assert outputs.relationships(pair.pair_id) == []
