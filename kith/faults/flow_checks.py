"""What a flow scenario checks, as an observer of topics and databases.

Per write the API acknowledged (``Flow.acked``):

* booking: the change is in its database, its event is in its outbox, and that event is on
  its topic; copies of the one event are allowed (delivery is at least once), a second
  event (another id) for the same write is a duplicate effect;
* trust (when it runs): its inbox holds the event, and its effect is in trust's state once:
  a completed visit counted once in the pair's visits, one private answer per visit and
  author, one vetting step each, one concern each, a suspension exactly while a concern is
  open, an approval once every basic step passed; every event trust published on its topic,
  and no cause that made trust publish the same change twice.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from kith.faults.flow import Flow
from kith.faults.platform import Platform
from kith.faults.reading import events_of, read_only, read_topics
from kith.faults.result import ScenarioResult
from kith.seeding import BASIC_VETTING
from shared.contracts import Envelope, Payload, decode
from shared.contracts.bookings import BookingConfirmed, VisitCheckedIn, VisitCompleted
from shared.contracts.topics import (
    BOOKINGS,
    CHECKINS,
    CONCERNS,
    RELATIONSHIPS,
    STANDING,
    VETTING,
)
from shared.contracts.trust import (
    CheckInSubmitted,
    ConcernRaised,
    ConcernResolved,
    VettingStepRecorded,
)

#: Each kind of write, and the event booking publishes for it.
EVENT_OF_WRITE: dict[str, type[Payload]] = {
    "accept": BookingConfirmed,
    "check-in": VisitCheckedIn,
    "check-out": VisitCompleted,
    "answer": CheckInSubmitted,
    "vetting": VettingStepRecorded,
    "concern": ConcernRaised,
    "resolve": ConcernResolved,
}
#: The writes whose events trust applies (it skips arrivals).
TRUST_APPLIES = frozenset({"accept", "check-out", "answer", "vetting", "concern", "resolve"})
FLOW_TOPICS = (BOOKINGS, CHECKINS, VETTING, CONCERNS)


def name_of(data: Payload) -> str | None:
    """What the flow's record of a write calls the thing this event is about."""
    if isinstance(data, BookingConfirmed | VisitCheckedIn | VisitCompleted):
        return str(data.booking_id)
    if isinstance(data, CheckInSubmitted):
        return f"{data.booking_id}|{data.author_id}"
    if isinstance(data, VettingStepRecorded):
        return f"{data.person_id}|{data.step}"
    if isinstance(data, ConcernRaised | ConcernResolved):
        return str(data.concern_id)
    return None


@dataclass
class _Tally:
    lost: Counter[str]
    duplicates: Counter[str]

    def lose(self, what: str, count: int = 1) -> None:
        if count > 0:
            self.lost[what] += count

    def repeat(self, what: str, count: int = 1) -> None:
        if count > 0:
            self.duplicates[what] += count


async def check_flow(kith: Platform, flow: Flow, *, trust: bool = True) -> ScenarioResult:
    """Compare every acknowledged write with booking, the topics and (if ``trust``) trust."""
    tally = _Tally(Counter(), Counter())
    outbox_ids = await _booking_side(kith, flow, tally)
    if trust:
        await _trust_side(kith, flow, outbox_ids, tally)
    checked = sum(len(names) for names in flow.acked.values())
    return ScenarioResult(
        checked=checked,
        lost=sum(tally.lost.values()),
        duplicate_effects=sum(tally.duplicates.values()),
        recovery_s=0.0,
        details={
            "writes_acknowledged": {kind: len(names) for kind, names in flow.acked.items()},
            "refused": len(flow.refused),
            "refusals": flow.refused[:5],
            "lost": dict(tally.lost),
            "duplicates": dict(tally.duplicates),
        },
    )


async def _booking_side(kith: Platform, flow: Flow, tally: _Tally) -> dict[str, set[uuid.UUID]]:
    """Booking's rows, outbox and topics; returns, per write kind, the acknowledged writes'
    event ids in booking's outbox (what trust must have applied)."""
    neighbours = list({uuid.UUID(v.neighbour.person_id) for v in flow.visits})
    async with read_only(kith.settings().database_for("booking")) as db:
        bookings = await db.fetch(
            "SELECT booking_id, request_id, status, checked_in_at FROM bookings"
            " WHERE neighbour_id = ANY($1::uuid[])",
            neighbours,
        )
        answers = await db.fetch(
            "SELECT booking_id, author_id FROM checkins WHERE author_id = ANY($1::uuid[])"
            " OR about_id = ANY($1::uuid[])",
            neighbours,
        )
        concerns = await db.fetch("SELECT concern_id, status FROM concerns")
        requests = await db.fetchval(
            "SELECT count(*) FROM requests WHERE neighbour_id = ANY($1::uuid[])", neighbours
        )
        outbox = await db.fetch(
            "SELECT event_id, envelope FROM outbox WHERE type = ANY($1::text[])",
            [cls.TYPE for cls in EVENT_OF_WRITE.values()],
        )
    row_of = {str(row["booking_id"]): row for row in bookings}
    in_database = {
        "accept": set(row_of),
        "check-in": {b for b, row in row_of.items() if row["checked_in_at"] is not None},
        "check-out": {b for b, row in row_of.items() if row["status"] == "completed"},
        "answer": {f"{row['booking_id']}|{row['author_id']}" for row in answers},
        "concern": {str(row["concern_id"]) for row in concerns},
        "resolve": {str(row["concern_id"]) for row in concerns if row["status"] != "open"},
    }
    # Booking's outbox: the event of each write, by kind and name (vetting lives only there).
    in_outbox: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
    for row in outbox:
        envelope: Envelope[Payload] = decode(bytes(row["envelope"]))
        name = name_of(envelope.data)
        if name is not None:
            in_outbox[(envelope.type, name)].add(envelope.event_id)
    on_topic: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
    records = await read_topics(kith.bootstrap, [topic.name for topic in FLOW_TOPICS])
    for _, envelope in events_of(records):
        name = name_of(envelope.data)
        if name is not None:
            on_topic[(envelope.type, name)].add(envelope.event_id)
    applied: dict[str, set[uuid.UUID]] = defaultdict(set)
    for kind, names in flow.acked.items():
        event_type = EVENT_OF_WRITE[kind].TYPE
        for name in names:
            if kind in in_database and name not in in_database[kind]:
                tally.lose(f"{kind}: not in booking's database")
            ids = in_outbox.get((event_type, name), set())
            if not ids:
                tally.lose(f"{kind}: no event in booking's outbox")
            if not ids & on_topic.get((event_type, name), set()):
                tally.lose(f"{kind}: its event not on its topic")
            tally.repeat(f"{kind}: a second event for one write", len(ids) - 1)
            tally.repeat(
                f"{kind}: a second event on the topic",
                len(on_topic.get((event_type, name), set())) - 1,
            )
            applied[kind] |= ids
    tally.repeat(
        "second booking of a request",
        sum(n - 1 for n in Counter(r["request_id"] for r in bookings).values()),
    )
    tally.repeat("second request for a key", int(requests) - len(flow.visits))
    answered = set(flow.booking_of.values())
    tally.lose("accept answered with a booking never committed", len(answered - set(row_of)))
    return applied


async def _trust_side(
    kith: Platform, flow: Flow, applied: dict[str, set[uuid.UUID]], tally: _Tally
) -> None:
    completed = sorted(flow.acked.get("check-out", set()))
    pairs: Counter[tuple[str, str]] = Counter()
    visit_of = {
        flow.booking_of[v.offer_id]: v for v in flow.visits if v.offer_id in flow.booking_of
    }
    for booking in completed:
        visit = visit_of[booking]
        pairs[(visit.helper.person_id, visit.neighbour.person_id)] += 1
    async with read_only(kith.settings().database_for("trust")) as db:
        inbox = {
            row["event_id"]
            for row in await db.fetch(
                "SELECT event_id FROM inbox"
                " WHERE consumer = 'trust' AND event_id = ANY($1::uuid[])",
                [i for kind in TRUST_APPLIES for i in applied.get(kind, ())],
            )
        }
        counted = {
            str(row["booking_id"])
            for row in await db.fetch(
                "SELECT booking_id FROM counted_visits WHERE booking_id = ANY($1::uuid[])",
                [uuid.UUID(b) for b in completed],
            )
        }
        visits = {
            (str(row["helper_id"]), str(row["neighbour_id"])): row["visits"]
            for row in await db.fetch("SELECT helper_id, neighbour_id, visits FROM relationships")
        }
        answers = Counter(
            f"{row['booking_id']}|{row['author_id']}"
            for row in await db.fetch("SELECT booking_id, author_id FROM checkins")
        )
        steps = Counter(
            f"{row['person_id']}|{row['step']}"
            for row in await db.fetch("SELECT person_id, step FROM vetting_steps")
        )
        concerns = {
            str(row["concern_id"]): row["outcome"]
            for row in await db.fetch("SELECT concern_id, outcome FROM concerns")
        }
        people = {
            str(row["person_id"]): row
            for row in await db.fetch("SELECT person_id, suspended, approved_skills FROM people")
        }
        outbox = await db.fetch("SELECT event_id, envelope, published_at FROM outbox")
    for kind in TRUST_APPLIES:
        tally.lose(f"{kind}: not applied by trust", len(applied.get(kind, set()) - inbox))
    tally.lose("completed visit not counted by trust", len(set(completed) - counted))
    for pair, expected in pairs.items():
        held = visits.get(pair, 0)
        tally.lose("visits missing from a pair", max(0, expected - held))
        tally.repeat("a visit counted twice in a pair", max(0, held - expected))
    for name in flow.acked.get("answer", set()):
        tally.lose("answer not recorded by trust", int(answers[name] == 0))
        tally.repeat("answer recorded twice by trust", answers[name] - 1)
    for name in flow.acked.get("vetting", set()):
        tally.lose("vetting step not recorded by trust", int(steps[name] == 0))
        tally.repeat("vetting step recorded twice by trust", steps[name] - 1)
    for concern in flow.acked.get("concern", set()):
        tally.lose("concern not recorded by trust", int(concern not in concerns))
    tally.lose("suspension not as the concerns say", _suspensions(flow, people))
    vetted = _fully_vetted(flow)
    for applicant in vetted:
        row = people.get(applicant)
        approved = str(row["approved_skills"]) if row is not None else ""
        tally.lose("applicant vetted but not approved", int("shopping" not in str(approved)))
    await _trust_published(kith, outbox, tally)


def _suspensions(flow: Flow, people: dict[str, Any]) -> int:
    """Subjects whose suspension in trust differs from what their concerns say: suspended
    while a concern is open, not once it was resolved by reinstating them."""
    open_about = {
        subject for concern, subject in flow.concern_about.items() if concern not in flow.reinstated
    }
    wrong = 0
    for concern, subject in flow.concern_about.items():
        if concern not in flow.acked.get("concern", set()):
            continue
        row = people.get(subject)
        suspended = bool(row is not None and row["suspended"])
        wrong += int(suspended != (subject in open_about))
    return wrong


def _fully_vetted(flow: Flow) -> list[str]:
    acked = flow.acked.get("vetting", set())
    return [
        a.person_id
        for a in flow.applicants
        if all(f"{a.person_id}|{step}" in acked for step in BASIC_VETTING)
    ]


async def _trust_published(kith: Platform, outbox: list[Any], tally: _Tally) -> None:
    """Every event trust published is on its topic; no cause made the same change twice."""
    on_topic = {
        envelope.event_id
        for _, envelope in events_of(
            await read_topics(kith.bootstrap, [RELATIONSHIPS.name, STANDING.name])
        )
    }
    per_cause: Counter[tuple[str, str, str]] = Counter()
    for row in outbox:
        if row["envelope"] is None:  # a tombstone
            continue
        envelope: Envelope[Payload] = decode(bytes(row["envelope"]))
        if row["published_at"] is None or envelope.event_id not in on_topic:
            tally.lose("trust's event not on its topic")
        subject = getattr(envelope.data, "pair_id", None) or getattr(envelope.data, "person_id", "")
        per_cause[(str(envelope.causation_id), envelope.type, str(subject))] += 1
    tally.repeat(
        "trust published one change twice",
        sum(n - 1 for key, n in per_cause.items() if key[0] != "None"),
    )
