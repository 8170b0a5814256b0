"""``poison``: malformed and hostile messages on every topic a service consumes.

Each kind of poison goes to one partition of each consumed topic (the kinds cycle over the
partitions, so every partition gets some), followed on the same partition by a valid event.
The check, per consuming service:

* lost: a poison message that service did not dead-letter with a reason, or a valid
  message after poison that it did not process (its group never committed past it, or it
  dead-lettered it): a partition that stalled behind poison loses everything after it;
* duplicate effects: a poison message dead-lettered more than once by the same service.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from kith.faults.groups import matching_topic, service_groups
from kith.faults.platform import Platform, platform
from kith.faults.reading import read_topics, settle
from kith.faults.result import ScenarioResult
from kith.faults.world import Api, ask, hour_from_now, places, sign_up
from shared import clock
from shared.contracts import Envelope, Payload, encode, pair_key
from shared.contracts.bookings import OfferDeclined, WelfareCheckRequested
from shared.contracts.partners import PartnerServiceChanged
from shared.contracts.people import AvailabilityChanged, PersonProfileChanged
from shared.contracts.requests import HelpRequestCancelled, OfferMade
from shared.contracts.topics import (
    AVAILABILITY,
    BOOKINGS,
    CHECKINS,
    CONCERNS,
    DEAD_LETTERS,
    NEIGHBOURHOOD_PARTITIONS,
    OFFERS,
    PARTNERS,
    PEOPLE,
    RELATIONSHIPS,
    REQUESTS,
    STANDING,
    VETTING,
)
from shared.contracts.trust import (
    AsAgreed,
    CheckInSubmitted,
    ConcernRaised,
    RaisedBy,
    RelationshipChanged,
    RelationshipStage,
    SeeAgain,
    StandingChanged,
    VettingStepRecorded,
)
from shared.geo import cell_of
from shared.messaging import KafkaConnection
from shared.messaging.dead_letters import read_dead_letter

log = structlog.get_logger(__name__)


def round_due() -> str:
    """Matching's internal topic of round ticks."""
    return matching_topic("round-due")


def groups() -> dict[str, str]:
    """Each service's consumer group, by the name it signs its dead letters with."""
    return {service: group.group_id for service, group in service_groups().items()}


def consumed() -> dict[str, tuple[str, int, tuple[str, ...]]]:
    """Every topic the services consume: its partitions and the services reading it.

    Booking and trust declare their topics; matching's are its neighbourhood streams,
    standing, partners' services and its own round ticks.
    """
    readers = {
        service: [t.name for t in group.topics] for service, group in service_groups().items()
    }
    partitions = {t.name: t.partitions for group in service_groups().values() for t in group.topics}
    topics: dict[str, tuple[str, int, tuple[str, ...]]] = {}
    for name, count in partitions.items():
        services = tuple(s for s, names in readers.items() if name in names)
        topics[name] = (name, count, services)
    topics[round_due()] = (round_due(), NEIGHBOURHOOD_PARTITIONS, ("matching",))
    return topics


def _envelope(kind: str, version: object, data: Any, **overrides: Any) -> bytes:
    document = {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "version": version,
        "occurred_at": clock.now().isoformat(),
        "producer": "faults",
        "correlation_id": str(uuid.uuid4()),
        "data": data,
        **overrides,
    }
    return json.dumps(document).encode()


def _foreign(topic: str) -> bytes:
    """A valid event that belongs on some other topic."""
    wrong: Payload = (
        OfferDeclined(
            offer_id=uuid.uuid4(),
            request_id=uuid.uuid4(),
            helper_id=uuid.uuid4(),
            neighbourhood=places(1)[0].neighbourhood,
        )
        if topic != BOOKINGS.name
        else VettingStepRecorded(person_id=uuid.uuid4(), step="identity", recorded_by="faults")
    )
    return encode(Envelope.wrap(wrong, producer="faults"))


_HOSTILE = "'; DROP TABLE outbox; -- <script>alert(1)</script> ../../etc/passwd \u202e"

#: Each kind of poison: its name and the bytes (or ``None``) sent for a topic.
POISON: tuple[tuple[str, Callable[[str], bytes | None]], ...] = (
    ("not_json", lambda _: b"{not json"),
    ("bad_utf8", lambda _: b'{"type": "\xff\xfe\xfd"}'),
    ("null_value", lambda _: None),
    ("empty", lambda _: b""),
    ("not_an_object", lambda _: b"[1, 2, 3]"),
    ("wrong_field_types", lambda _: _envelope("help.requested", "one", "data")),
    ("unknown_type", lambda _: _envelope("kith.nonsense", 1, {})),
    ("future_version", lambda _: _envelope("help.requested", 99, {})),
    ("missing_envelope_fields", lambda _: json.dumps({"type": "x", "version": 1}).encode()),
    ("missing_data_fields", lambda _: _envelope("help.requested", 1, {"skill": "shopping"})),
    ("wrong_topic", _foreign),
    ("huge", lambda _: _envelope("help.requested", 1, {"pad": "x" * 300_000})),
    (
        "hostile_strings",
        lambda _: _envelope(
            "person.profile_changed",
            1,
            {"person_id": _HOSTILE, "display_name": _HOSTILE * 50, "neighbourhood": _HOSTILE},
        ),
    ),
    ("deeply_nested", lambda _: b'{"data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
)


@dataclass(frozen=True)
class _Sent:
    kind: str
    topic: str
    partition: int
    poison_offset: int
    valid_offset: int
    services: tuple[str, ...]


async def run_poison(folder: Path) -> ScenarioResult:
    """Poison every consumed topic and check each service dead-letters and carries on."""
    async with platform(folder) as kith:
        booking = kith.add("booking", http=True)
        await kith.start_all(booking, kith.add("trust"), kith.add("matching"))
        valid = await _valid_events(booking.api)
        started = time.monotonic()
        sent = await _send(kith, valid)
        log.info("poison: sent", messages=2 * len(sent))

        async def look() -> dict[str, Any]:
            return await _check(kith, sent)

        seen = await settle(look, lambda s: not s["lost"], timeout_s=90)
        drained = time.monotonic() - started
        return ScenarioResult(
            checked=seen["checked"],
            lost=len(seen["lost"]),
            duplicate_effects=seen["duplicates"],
            recovery_s=drained,
            details={
                "topics": sorted({s.topic for s in sent}),
                "kinds": [kind for kind, _ in POISON],
                "lost": seen["lost"][:10],
                "reasons": seen["reasons"],
            },
        )


async def _valid_events(api_url: str) -> dict[str, Callable[[], bytes]]:
    """A factory of a valid, harmless event for each consumed topic (fresh ids each time).

    An offer must name a request booking holds, so one real request is made first.
    """
    place = places(1)[0]
    api = Api(api_url)
    try:
        neighbour = await sign_up(api, place, skills=[], label=f"poison-{uuid.uuid4().hex[:6]}")
        request_id = await ask(api, neighbour, hour_from_now(3, days=2), key="poison-request")
    finally:
        await api.close()
    nb = place.neighbourhood
    starts = hour_from_now(3, days=2)

    def wrap(payload: Payload) -> bytes:
        return encode(Envelope.wrap(payload, producer="faults"))

    def pair() -> tuple[uuid.UUID, uuid.UUID]:
        return uuid.uuid4(), uuid.uuid4()

    def relationship() -> bytes:
        helper, neighbour_id = pair()
        return wrap(
            RelationshipChanged(
                pair_id=pair_key(helper, neighbour_id),
                helper_id=helper,
                neighbour_id=neighbour_id,
                neighbourhood=nb,
                stage=RelationshipStage.INTRODUCED,
                visits=0,
                hours_together=0,
                both_want_again=False,
                matchable=True,
            )
        )

    def checkin() -> bytes:
        helper, neighbour_id = pair()
        return wrap(
            CheckInSubmitted(
                checkin_id=uuid.uuid4(),
                booking_id=uuid.uuid4(),
                author_id=helper,
                about_id=neighbour_id,
                helper_id=helper,
                neighbour_id=neighbour_id,
                neighbourhood=nb,
                see_again=SeeAgain.YES,
                as_agreed=AsAgreed.YES,
            )
        )

    return {
        PEOPLE.name: lambda: wrap(
            PersonProfileChanged(
                person_id=uuid.uuid4(),
                display_name="Valid after poison",
                neighbourhood=nb,
                cell=cell_of(place.lat, place.lng),
                travel_radius_km=1,
                weekly_hour_cap=1,
            )
        ),
        AVAILABILITY.name: lambda: wrap(
            AvailabilityChanged(
                person_id=uuid.uuid4(),
                neighbourhood=nb,
                horizon_start=starts,
                horizon_end=starts + timedelta(days=1),
            )
        ),
        REQUESTS.name: lambda: wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=nb)
        ),
        OFFERS.name: lambda: wrap(
            OfferMade(
                offer_id=uuid.uuid4(),
                request_id=uuid.UUID(request_id),
                helper_id=uuid.uuid4(),
                neighbour_id=uuid.UUID(neighbour.person_id),
                neighbourhood=nb,
                skill="shopping",
                starts_at=starts,
                hours=1,
                round=1,
                expires_at=starts,
            )
        ),
        BOOKINGS.name: lambda: wrap(
            WelfareCheckRequested(
                booking_id=uuid.uuid4(),
                neighbour_id=uuid.uuid4(),
                helper_id=uuid.uuid4(),
                neighbourhood=nb,
                starts_at=starts,
            )
        ),
        CHECKINS.name: checkin,
        VETTING.name: lambda: wrap(
            VettingStepRecorded(person_id=uuid.uuid4(), step="identity", recorded_by="faults")
        ),
        RELATIONSHIPS.name: relationship,
        STANDING.name: lambda: wrap(StandingChanged(person_id=uuid.uuid4(), suspended=False)),
        CONCERNS.name: lambda: wrap(
            ConcernRaised(
                concern_id=uuid.uuid4(),
                about_id=uuid.uuid4(),
                raised_by_role=RaisedBy.OPERATOR,
            )
        ),
        PARTNERS.name: lambda: wrap(
            PartnerServiceChanged(
                partner_id=uuid.uuid4(),
                name="Valid partner",
                helper_id=uuid.uuid4(),
                active=False,
            )
        ),
        round_due(): lambda: json.dumps(
            {"neighbourhood": nb, "request_id": str(uuid.uuid4()), "round": 1}
        ).encode(),
    }


async def _send(kith: Platform, valid: dict[str, Callable[[], bytes]]) -> list[_Sent]:
    """Each kind of poison, then a valid event, on one partition of every consumed topic."""
    producer = AIOKafkaProducer(
        **KafkaConnection.of(kith.settings()).aiokafka(),
        enable_idempotence=False,
        max_request_size=2**21,
    )
    await producer.start()
    sent: list[_Sent] = []
    try:
        for topic, partitions, services in consumed().values():
            for index, (kind, make) in enumerate(POISON):
                partition = index % partitions
                poison = await producer.send_and_wait(
                    topic, make(topic), key=f"poison-{kind}".encode(), partition=partition
                )
                good = await producer.send_and_wait(
                    topic, valid[topic](), key=f"valid-{kind}".encode(), partition=partition
                )
                sent.append(_Sent(kind, topic, partition, poison.offset, good.offset, services))
    finally:
        await producer.stop()
    return sent


async def _check(kith: Platform, sent: list[_Sent]) -> dict[str, Any]:
    letters: Counter[tuple[str, int, int, str]] = Counter()
    reason_of: dict[tuple[str, int, int], str] = {}
    for record in await read_topics(kith.bootstrap, [DEAD_LETTERS.name]):
        letter = read_dead_letter(record)
        if letter.reason:
            letters[(letter.topic, letter.partition, letter.offset, letter.consumer)] += 1
            where = (letter.topic, letter.partition, letter.offset)
            reason_of.setdefault(where, f"{letter.consumer}: {letter.reason[:120]}")
    committed = await _committed(kith, {(s.topic, s.partition) for s in sent})
    lost: list[str] = []
    checked = 0
    reasons: dict[str, str] = {}
    for item in sent:
        reasons.setdefault(
            item.kind, reason_of.get((item.topic, item.partition, item.poison_offset), "")
        )
        for service in item.services:
            checked += 2
            if not letters[(item.topic, item.partition, item.poison_offset, service)]:
                lost.append(f"{service} did not dead-letter {item.kind} on {item.topic}")
            if letters[(item.topic, item.partition, item.valid_offset, service)]:
                lost.append(f"{service} dead-lettered the valid event after {item.kind}")
            position = committed.get((groups()[service], item.topic, item.partition)) or 0
            if position <= item.valid_offset:
                lost.append(f"{service} stalled on {item.topic}/{item.partition} after {item.kind}")
    poisoned = {(s.topic, s.partition, s.poison_offset) for s in sent}
    duplicates = sum(n - 1 for key, n in letters.items() if key[:3] in poisoned)
    return {"checked": checked, "lost": lost, "duplicates": duplicates, "reasons": reasons}


async def _committed(
    kith: Platform, partitions: set[tuple[str, int]]
) -> dict[tuple[str, str, int], int | None]:
    """Each group's committed offset on each partition (``None`` when it committed none)."""
    found: dict[tuple[str, str, int], int | None] = {}
    for group in groups().values():
        reader = AIOKafkaConsumer(
            **KafkaConnection.of(kith.settings()).aiokafka(),
            group_id=group,
            enable_auto_commit=False,
        )
        await reader.start()
        try:
            for topic, partition in partitions:
                found[(group, topic, partition)] = await reader.committed(
                    TopicPartition(topic, partition)
                )
        finally:
            await reader.stop()
    return found
