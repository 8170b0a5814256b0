"""A steady whole flow through the booking API, for the scenarios that kill processes under it.

Neighbours ask for help; each request is offered to one helper (published as matching would,
so that the scenario does not depend on ranking); the helper accepts, checks in, checks out,
and both people answer the private check-in questions. Beside the visits, an operator vets
applicants step by step and, optionally, raises concerns about some people and reinstates
half of them. Every call is retried across a booking process's death, with the same
``Idempotency-Key`` where the API takes one (a check-in or check-out sent again finds the
visit already moved on, and answers the same).

Every write the API acknowledged is recorded in ``Flow.acked``; the checkers
(``flow_checks``) look for each in booking's database, on its topic and in trust, once.
Visits start a day ahead, so the scenario runs booking with
``KITH_CHECK_IN_OPENS_BEFORE_S`` at its longest (``FLOW_ENV``) to check in at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kith.client import until
from kith.faults.gate import LoadGate
from kith.faults.platform import Platform
from kith.faults.reading import read_only
from kith.faults.world import Api, Person, ask, hour_from_now, places, sign_up
from kith.seeding import BASIC_VETTING
from shared import clock
from shared.contracts import Envelope
from shared.contracts.requests import OfferMade
from shared.messaging import Publisher

#: Settings every process of a flow scenario runs with: check-ins open a week ahead.
FLOW_ENV = {"KITH_CHECK_IN_OPENS_BEFORE_S": str(7 * 24 * 3600)}
_SETUP_CONCURRENCY = 16
#: Visits per neighbour stay within the week check-ins open ahead (a day, plus an hour each).
_MAX_HOURS_AHEAD = 6 * 24


@dataclass(frozen=True)
class FlowSize:
    """How much flows: visits, the helpers and neighbours sharing them, applicants vetted,
    people concerns are raised about."""

    visits: int = 300
    helpers: int = 8
    neighbours: int = 4
    applicants: int = 6
    concerns: int = 0


@dataclass(frozen=True)
class Visit:
    """One visit to be: its request, the offer made for it, and who takes part."""

    request_id: str
    offer_id: str
    helper: Person
    neighbour: Person


@dataclass
class Flow:
    """What was seeded, and every write the API acknowledged."""

    run: str
    visits: list[Visit]
    applicants: list[Person]
    subjects: list[Person]
    acked: dict[str, set[str]] = field(default_factory=dict)
    """Kind of write -> what each acknowledged write names (``booking``, ``booking|author``,
    ``person|step``, a concern id)."""
    booking_of: dict[str, str] = field(default_factory=dict)
    """Offer id -> the booking id the API answered its accept with."""
    concern_about: dict[str, str] = field(default_factory=dict)
    """Concern id -> the person it is about."""
    reinstated: set[str] = field(default_factory=set)
    """Concern ids an operator resolved by reinstating the person."""
    refused: list[str] = field(default_factory=list)
    writes: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    gate: LoadGate = field(default_factory=LoadGate)
    """Where visits stop starting while a killed process comes back (``kith.faults.gate``)."""

    def ack(self, kind: str, name: str) -> None:
        """Record an acknowledged write, and wake whoever waits on progress."""
        self.acked.setdefault(kind, set()).add(name)
        self.writes += 1
        self.progress.set()

    @property
    def planned_writes(self) -> int:
        """Writes the flow makes when nothing is refused."""
        concerns = len(self.subjects)
        return len(self.visits) * 5 + len(self.applicants) * len(BASIC_VETTING) + concerns * 3 // 2


async def seed(api: Api, kith: Platform, size: FlowSize) -> Flow:
    """People, requests and one offer per request; returns once booking holds every offer."""
    run = uuid.uuid4().hex[:8]
    place = places(1)[0]
    gate = asyncio.Semaphore(_SETUP_CONCURRENCY)

    async def person(label: str, skills: list[str]) -> Person:
        async with gate:
            return await sign_up(api, place, skills=skills, label=f"flow-{run}-{label}")

    helpers = await asyncio.gather(*(person(f"h{i}", ["shopping"]) for i in range(size.helpers)))
    neighbours = await asyncio.gather(*(person(f"n{i}", []) for i in range(size.neighbours)))
    applicants = await asyncio.gather(
        *(person(f"a{i}", ["shopping"]) for i in range(size.applicants))
    )
    subjects = await asyncio.gather(*(person(f"s{i}", []) for i in range(size.concerns)))
    if size.visits > size.neighbours * _MAX_HOURS_AHEAD:
        raise ValueError(
            f"at most {size.neighbours * _MAX_HOURS_AHEAD} visits for these neighbours"
        )

    async def request(index: int) -> tuple[str, datetime]:
        neighbour = neighbours[index % len(neighbours)]
        starts_at = hour_from_now(index // len(neighbours), days=1)
        async with gate:
            request_id = await ask(api, neighbour, starts_at, key=f"{run}-request-{index}")
        return request_id, starts_at

    requests = await asyncio.gather(*(request(i) for i in range(size.visits)))
    visits: list[Visit] = []
    envelopes = []
    expires = clock.now() + timedelta(hours=2)
    for index, (request_id, starts_at) in enumerate(requests):
        helper, neighbour = helpers[index % len(helpers)], neighbours[index % len(neighbours)]
        offer = OfferMade(
            offer_id=uuid.uuid4(),
            request_id=uuid.UUID(request_id),
            helper_id=uuid.UUID(helper.person_id),
            neighbour_id=uuid.UUID(neighbour.person_id),
            neighbourhood=place.neighbourhood,
            skill="shopping",
            starts_at=starts_at,
            hours=1,
            round=1,
            expires_at=expires,
        )
        visits.append(Visit(request_id, str(offer.offer_id), helper, neighbour))
        envelopes.append(Envelope.wrap(offer, producer="faults"))
    publisher = Publisher(kith.settings(), client_id="faults-flow")
    await publisher.start()
    try:
        await publisher.publish_many(envelopes)
    finally:
        await publisher.stop()
    offer_ids = [visit.offer_id for visit in visits]

    async def held() -> bool:
        async with read_only(kith.settings().database_for("booking")) as db:
            count = await db.fetchval(
                "SELECT count(*) FROM offers WHERE offer_id = ANY($1::uuid[])", offer_ids
            )
        return bool(count == len(offer_ids))

    await until(held, 180, "booking to hold every offer", every_s=0.2)
    return Flow(run, visits, list(applicants), list(subjects))


async def run_flow(api: Api, kith: Platform, flow: Flow) -> None:
    """Every helper's visits one after another, helpers side by side, with the operator's
    vetting and concerns beside them."""
    by_helper: dict[str, list[Visit]] = {}
    for visit in flow.visits:
        by_helper.setdefault(visit.helper.person_id, []).append(visit)
    await asyncio.gather(
        *(_visits(api, flow, visits) for visits in by_helper.values()),
        _vetting(api, kith.operator_token, flow),
        _concerns(api, kith.operator_token, flow),
    )


async def _write(flow: Flow, what: str, call: Awaitable[object]) -> bool:
    """One write; a refusal is recorded (the checker decides), not fatal."""
    try:
        await call
    except Exception as error:
        flow.refused.append(f"{what}: {error}")
        return False
    return True


async def _visits(api: Api, flow: Flow, visits: list[Visit]) -> None:
    for visit in visits:
        await flow.gate.wait(flow.writes)
        if await _write(flow, f"accept {visit.offer_id}", _accept(api, flow, visit)):
            await _visit(api, flow, visit, flow.booking_of[visit.offer_id])


async def _accept(api: Api, flow: Flow, visit: Visit) -> None:
    answer = await api.call(
        "POST",
        f"/v1/offers/{visit.offer_id}/accept",
        token=visit.helper.token,
        key=f"{flow.run}-accept-{visit.offer_id}",
    )
    flow.booking_of[visit.offer_id] = str(answer["booking_id"])
    flow.ack("accept", str(answer["booking_id"]))


async def _visit(api: Api, flow: Flow, visit: Visit, booking: str) -> None:
    """Check in, check out, then both answer: each step only once the one before held."""
    for move in ("check-in", "check-out"):
        if not await _write(
            flow, f"{move} {booking}", _helper_moves(api, flow, visit, booking, move)
        ):
            return
    for author in (visit.helper, visit.neighbour):
        await _write(flow, f"answer {booking}", _answer(api, flow, booking, author))


async def _helper_moves(api: Api, flow: Flow, visit: Visit, booking: str, move: str) -> None:
    await api.call("POST", f"/v1/bookings/{booking}/{move}", token=visit.helper.token)
    flow.ack(move, booking)


async def _answer(api: Api, flow: Flow, booking: str, author: Person) -> None:
    await api.call(
        "POST",
        f"/v1/bookings/{booking}/check-ins",
        token=author.token,
        json={"see_again": "yes", "as_agreed": "yes"},
        key=f"{flow.run}-answer-{booking}-{author.person_id}",
    )
    flow.ack("answer", f"{booking}|{author.person_id}")


async def _vetting(api: Api, operator_token: str, flow: Flow) -> None:
    for applicant in flow.applicants:
        for step in BASIC_VETTING:
            await _write(
                flow,
                f"vetting {applicant.person_id} {step}",
                _vet(api, operator_token, flow, applicant, step),
            )
            await asyncio.sleep(0.05)  # spread over the flow, as an operator's day would be


async def _vet(api: Api, operator_token: str, flow: Flow, applicant: Person, step: str) -> None:
    await api.call(
        "POST",
        f"/v1/operator/people/{applicant.person_id}/vetting-steps",
        token=operator_token,
        json={"step": step},
        key=f"{flow.run}-vet-{applicant.person_id}-{step}",
    )
    flow.ack("vetting", f"{applicant.person_id}|{step}")


async def _concerns(api: Api, operator_token: str, flow: Flow) -> None:
    """A concern about each subject (with an ``Idempotency-Key``); every other one is then
    resolved by reinstating them. Resolving takes no key (a second resolution is refused):
    the scenarios that raise concerns kill no booking process, so it is never sent twice.
    """
    for index, subject in enumerate(flow.subjects):
        concern = await _raise(api, operator_token, flow, subject)
        if concern is not None and index % 2 == 0:
            await _write(flow, f"resolve {concern}", _reinstate(api, operator_token, flow, concern))
        await asyncio.sleep(0.1)


async def _raise(api: Api, operator_token: str, flow: Flow, subject: Person) -> str | None:
    try:
        answer = await api.call(
            "POST",
            "/v1/operator/concerns",
            token=operator_token,
            json={"about_id": subject.person_id, "summary": "seen to be careless"},
            key=f"{flow.run}-concern-{subject.person_id}",
        )
    except Exception as error:
        flow.refused.append(f"concern {subject.person_id}: {error}")
        return None
    concern = str(answer["concern_id"])
    flow.concern_about[concern] = subject.person_id
    flow.ack("concern", concern)
    return concern


async def _reinstate(api: Api, operator_token: str, flow: Flow, concern: str) -> None:
    await api.call(
        "POST",
        f"/v1/operator/concerns/{concern}/resolve",
        token=operator_token,
        json={"outcome": "reinstate", "reason": "spoke to them; it was a misunderstanding"},
    )
    flow.reinstated.add(concern)
    flow.ack("resolve", concern)


async def at_writes(flow: Flow, count: int, finished: asyncio.Event) -> bool:
    """Wait until the flow has made ``count`` writes; False if it finished first (a kill
    then would land on an idle Kith)."""
    while flow.writes < count and not finished.is_set():
        flow.progress.clear()
        await flow.progress.wait()
    return not finished.is_set()
