"""``relay_kill``: SIGKILL booking (and the outbox relay inside it) while bookings are made.

Helpers accept offers through the API as fast as they can; at random moments (a seeded RNG
picks how many accepts in, plus a few milliseconds) booking is killed and started again at
once. Clients retry what failed with the same ``Idempotency-Key``. Afterwards the checker
compares what booking's database committed with what reached the topic and each consumer.

What "applied once" means here, per committed booking:

* on the topic: its ``BookingConfirmed`` (the outbox row's event id) is on
  ``kith.bookings.v1``; copies of that same event are allowed (at least once), a second event
  with another id for the same booking is a duplicate effect;
* trust: its inbox holds that event id (the inbox key makes a second application
  impossible; its absence is a loss);
* matching: the helper's ledger entry (read from its changelog) holds the booking exactly
  under its id; a booking id matching holds that booking never committed is a duplicate
  effect. The ledger is the helper's whole state, once, from which matching files a copy in
  every neighbourhood in reach through its filing topics (the check waits until matching has
  read those); the copies' own changelog, one whole state per neighbourhood per booking, is
  more than a gigabyte after 5,000 bookings;
* booking itself: one booking per request and per offer, one request per client key, and the
  booking each client was answered with is the one committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from kith.client import ApiError, until
from kith.demo import FILING_TOPICS
from kith.faults.groups import matching_topic, service_groups
from kith.faults.platform import Platform, platform
from kith.faults.processes import ServiceProcess
from kith.faults.reading import (
    LatestValues,
    events_of,
    read_only,
    read_topics,
    settle,
    wait_caught_up,
)
from kith.faults.result import ScenarioResult
from kith.faults.world import Api, Person, ask, hour_from_now, places, sign_up
from shared import clock
from shared.contracts import Envelope
from shared.contracts.bookings import BookingConfirmed
from shared.contracts.requests import OfferMade
from shared.contracts.topics import BOOKINGS
from shared.messaging import Publisher

log = structlog.get_logger(__name__)

_SETUP_CONCURRENCY = 16


#: How long matching may take per booking to read them all after the flow.
_CATCH_UP_S_PER_BOOKING = 0.06


@dataclass(frozen=True)
class RelayKillOptions:
    """How hard to push: bookings made, kills, helpers accepting at once, the RNG's seed."""

    bookings: int = 5000
    kills: int = 5
    helpers: int = 32
    seed: int = 7
    victim: str = "booking"
    """What is SIGKILLed: ``booking`` (``relay_kill``) or ``database`` (``database_kill``)."""


@dataclass
class _World:
    run: str
    neighbour: Person
    helpers: list[Person]
    #: Offer id -> the index of the helper it was offered to.
    offers: dict[str, int]
    answers: dict[str, str] = field(default_factory=dict)
    """Offer id -> the booking id the API answered the accept with."""
    refused: list[str] = field(default_factory=list)


@dataclass
class _Kill:
    """One kill: after how many accepts, then seconds from the restart until booking was
    ready again and until the relay had published everything committed before the kill."""

    at_accepts: int
    ready_s: float = 0.0
    recovery_s: float = 0.0


async def run_relay_kill(folder: Path, options: RelayKillOptions) -> ScenarioResult:
    """Make ``options.bookings`` bookings while killing booking ``options.kills`` times."""
    async with platform(folder) as kith:
        booking = kith.add("booking", http=True)
        trust, matching = kith.add("trust"), kith.add("matching")
        await kith.start_all(booking, trust, matching)
        pids = {process: process.pid for process in (booking, trust, matching)}
        api = Api(booking.api, concurrency=options.helpers)
        try:
            world = await _seed(api, kith, options)
            log.info("relay_kill: offers in place", offers=len(world.offers))
            kills = await _accept_while_killing(api, kith, booking, world, options)
        finally:
            await api.close()
        # A database kill must not take a service down with it: each carries on as it was.
        restarted = [
            process.name
            for process, pid in pids.items()
            if options.victim == "database" and process.pid != pid
        ]
        await _until_all_published(kith)
        groups = service_groups()
        await wait_caught_up(kith.bootstrap, groups["trust"].group_id, [BOOKINGS])
        # Matching files a booking in three hops (the bookings stream, then the helper's
        # facts, then a copy per neighbourhood): the last hop is what the check reads. On a
        # busy machine it trailed the first by more than the check waits.
        matching_group = groups["matching"].group_id
        # A deadline, not a wait: matching's cost per booking grows with the helper's
        # bookings (it files the helper's whole state in every neighbourhood in reach), so
        # thousands of bookings among a few dozen helpers take it minutes to read; past the
        # deadline the check reports what it has not filed.
        deadline = time.monotonic() + max(120.0, options.bookings * _CATCH_UP_S_PER_BOOKING)
        for topic in (BOOKINGS, *FILING_TOPICS):
            try:
                left = max(deadline - time.monotonic(), 1.0)
                await wait_caught_up(kith.bootstrap, matching_group, [topic], timeout_s=left)
            except ApiError as error:
                log.warning("relay_kill: matching still filing", error=repr(error))
        # Changelogs and inboxes trail the committed offsets a little (seconds on a busy
        # machine, where matching flushes its changelog late): look until it settles.
        # Matching's ledger of helpers (``helper`` -> whole state), as faust logs it.
        ledger = LatestValues(kith.bootstrap, matching_topic("helper-ledger-changelog"))
        try:
            result = await settle(
                partial(_check, kith, world, options, ledger),
                lambda seen: seen.lost == 0,
                timeout_s=90,
            )
        finally:
            await ledger.close()
        details = {
            **result.details,
            "kills": [
                {
                    "at_accepts": k.at_accepts,
                    "ready_s": round(k.ready_s, 2),
                    "recovery_s": round(k.recovery_s, 2),
                }
                for k in kills
            ],
            "http_retries": api.retries,
            "services_restarted": restarted,
        }
        return ScenarioResult(
            result.checked,
            result.lost + len(restarted),
            result.duplicate_effects,
            max((k.recovery_s for k in kills), default=0.0),
            details,
        )


async def _seed(api: Api, kith: Platform, options: RelayKillOptions) -> _World:
    """Helpers, a neighbour, one request per booking at distinct hours, and an offer of each
    to one helper (published as matching would, so the scenario does not depend on ranking)."""
    run = uuid.uuid4().hex[:8]
    place = places(1)[0]
    gate = asyncio.Semaphore(_SETUP_CONCURRENCY)

    async def helper(index: int) -> Person:
        async with gate:
            return await sign_up(api, place, skills=["shopping"], label=f"relay-{run}-h{index}")

    helpers = list(await asyncio.gather(*(helper(i) for i in range(options.helpers))))
    neighbour = await sign_up(api, place, skills=[], label=f"relay-{run}-neighbour")

    async def request(index: int) -> tuple[str, datetime]:
        starts_at = hour_from_now(index, days=2)
        async with gate:
            request_id = await ask(api, neighbour, starts_at, key=f"{run}-request-{index}")
        return request_id, starts_at

    requests = await asyncio.gather(*(request(i) for i in range(options.bookings)))
    offers: dict[str, int] = {}
    envelopes = []
    expires = clock.now() + timedelta(hours=2)
    for index, (request_id, starts_at) in enumerate(requests):
        helper_index = index % len(helpers)
        offer = OfferMade(
            offer_id=uuid.uuid4(),
            request_id=uuid.UUID(request_id),
            helper_id=uuid.UUID(helpers[helper_index].person_id),
            neighbour_id=uuid.UUID(neighbour.person_id),
            neighbourhood=place.neighbourhood,
            skill="shopping",
            starts_at=starts_at,
            hours=1,
            round=1,
            expires_at=expires,
        )
        offers[str(offer.offer_id)] = helper_index
        envelopes.append(Envelope.wrap(offer, producer="faults"))
    publisher = Publisher(kith.settings(), client_id="faults-relay-kill")
    await publisher.start()
    try:
        await publisher.publish_many(envelopes)
    finally:
        await publisher.stop()

    async def held() -> bool:
        async with read_only(kith.settings().database_for("booking")) as db:
            count = await db.fetchval(
                "SELECT count(*) FROM offers WHERE offer_id = ANY($1::uuid[])", list(offers)
            )
        return bool(count == len(offers))

    await until(held, 180, "booking to hold every offer", every_s=0.2)
    return _World(run, neighbour, helpers, offers)


async def _accept_while_killing(
    api: Api, kith: Platform, booking: ServiceProcess, world: _World, options: RelayKillOptions
) -> list[_Kill]:
    rng = random.Random(options.seed)
    total = len(world.offers)
    low, high = max(1, total // 10), max(2, total * 9 // 10)
    thresholds = sorted(rng.sample(range(low, high), min(options.kills, high - low)))
    accepted = 0
    finished = asyncio.Event()
    progress = asyncio.Event()  # set after each accept, so the killer need not poll

    async def client(index: int) -> None:
        nonlocal accepted
        helper = world.helpers[index]
        for offer_id in (o for o, h in world.offers.items() if h == index):
            try:
                answer = await api.call(
                    "POST",
                    f"/v1/offers/{offer_id}/accept",
                    token=helper.token,
                    key=f"{world.run}-accept-{offer_id}",
                )
            except Exception as error:  # a refusal is recorded, not fatal: the check decides
                world.refused.append(f"{offer_id}: {error}")
            else:
                world.answers[offer_id] = str(answer["booking_id"])
            accepted += 1
            progress.set()

    async def killer() -> list[_Kill]:
        kills: list[_Kill] = []
        for threshold in thresholds:
            while accepted < threshold and not finished.is_set():
                progress.clear()
                await progress.wait()
            if finished.is_set():
                break
            # A few milliseconds more, so the kill lands anywhere in an accept or a relay batch.
            await asyncio.sleep(rng.uniform(0, 0.05))
            kill = _Kill(at_accepts=accepted)
            kills.append(kill)
            if options.victim == "database":
                await _kill_database_and_watch(kith, booking, world.helpers[0], kill)
            else:
                await booking.kill()
                await _restart_and_watch(kith, booking, kill)
        return kills

    def done(_: object) -> None:
        finished.set()
        progress.set()

    killing = asyncio.create_task(killer())
    accepting = asyncio.gather(*(client(index) for index in range(len(world.helpers))))
    accepting.add_done_callback(done)
    # A kill that fails (the database not starting again) ends the run with its error:
    # the clients would otherwise retry against a server that is not coming back.
    both: set[asyncio.Future[Any]] = {killing, accepting}
    await asyncio.wait(both, return_when=asyncio.FIRST_EXCEPTION)
    if not accepting.done():
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await accepting
    return await killing


async def _restart_and_watch(kith: Platform, booking: ServiceProcess, kill: _Kill) -> None:
    """Start booking again; time how long until it is ready and until every event committed
    before the kill is published (the relay's recovery)."""
    database = kith.settings().database_for("booking")
    async with read_only(database) as db:
        committed = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))
    await booking.restart()
    restarted = time.monotonic()
    ready = asyncio.create_task(booking.wait_ready())

    async def published() -> bool:
        async with read_only(database) as db:
            left = await db.fetchval(
                "SELECT count(*) FROM outbox WHERE id <= $1 AND published_at IS NULL", committed
            )
        return bool(left == 0)

    await until(published, 120, "the relay to publish what was committed before the kill")
    kill.recovery_s = time.monotonic() - restarted
    kill.ready_s = await ready


async def _kill_database_and_watch(
    kith: Platform, booking: ServiceProcess, helper: Person, kill: _Kill
) -> None:
    """SIGKILL PostgreSQL and start it again at once; time how long until booking serves
    again (``ready_s``) and until every event committed before the kill is published."""
    database = kith.settings().database_for("booking")
    async with read_only(database) as db:
        committed = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))
    await kith.kill_database()
    await kith.start_database()
    restarted = time.monotonic()
    api = Api(booking.api, concurrency=1)
    try:
        # A call that reads the database: answered once booking's pool reaches it again.
        await api.call("GET", "/v1/offers", token=helper.token)
        kill.ready_s = time.monotonic() - restarted
    finally:
        await api.close()

    async def published() -> bool:
        async with read_only(database) as db:
            left = await db.fetchval(
                "SELECT count(*) FROM outbox WHERE id <= $1 AND published_at IS NULL", committed
            )
        return bool(left == 0)

    await until(published, 120, "the relay to publish what was committed before the kill")
    kill.recovery_s = time.monotonic() - restarted


async def _until_all_published(kith: Platform) -> None:
    async def published() -> bool:
        async with read_only(kith.settings().database_for("booking")) as db:
            left = await db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return bool(left == 0)

    await until(published, 120, "booking's outbox to be published", every_s=0.1)


async def _check(
    kith: Platform, world: _World, options: RelayKillOptions, ledger: LatestValues
) -> ScenarioResult:
    settings = kith.settings()
    async with read_only(settings.database_for("booking")) as db:
        bookings = await db.fetch("SELECT booking_id, request_id, offer_id FROM bookings")
        outbox = await db.fetch(
            "SELECT event_id, envelope FROM outbox WHERE type = $1", BookingConfirmed.TYPE
        )
        requests = await db.fetchval(
            "SELECT count(*) FROM requests WHERE neighbour_id = $1",
            uuid.UUID(world.neighbour.person_id),
        )
    committed = {str(row["booking_id"]) for row in bookings}
    event_of = {
        json.loads(row["envelope"])["data"]["booking_id"]: row["event_id"] for row in outbox
    }
    # The topic: every copy of every BookingConfirmed, by booking.
    copies: Counter[uuid.UUID] = Counter()
    ids_by_booking: dict[str, set[uuid.UUID]] = defaultdict(set)
    for _, envelope in events_of(await read_topics(kith.bootstrap, [BOOKINGS.name])):
        if isinstance(envelope.data, BookingConfirmed):
            copies[envelope.event_id] += 1
            ids_by_booking[str(envelope.data.booking_id)].add(envelope.event_id)
    on_topic = {b for b in committed if b in event_of and event_of[b] in copies}
    async with read_only(settings.database_for("trust")) as db:
        applied = await db.fetch(
            "SELECT event_id FROM inbox WHERE consumer = 'trust' AND event_id = ANY($1::uuid[])",
            list(event_of.values()),
        )
    trust_ids = {row["event_id"] for row in applied}
    by_trust = {b for b in committed if event_of.get(b) in trust_ids}
    by_matching = await _matching_bookings(ledger)
    lost = committed - (on_topic & by_trust & set(by_matching))
    answered_missing = {b for b in world.answers.values() if b not in committed}
    offer_booking = {str(row["offer_id"]): str(row["booking_id"]) for row in bookings}
    duplicates = {
        "second_booking_of_a_request": _extra(Counter(row["request_id"] for row in bookings)),
        "second_booking_of_an_offer": _extra(Counter(row["offer_id"] for row in bookings)),
        "second_request_for_a_key": max(0, int(requests) - options.bookings),
        "second_event_for_a_booking": sum(len(ids) - 1 for ids in ids_by_booking.values()),
        "answer_differs_from_committed": sum(
            1 for o, b in world.answers.items() if offer_booking.get(o, b) != b
        ),
        "unknown_booking_in_matching": sum(1 for b in by_matching if b not in committed),
    }
    details = {
        "bookings_committed": len(committed),
        "accepts_refused": len(world.refused),
        "refusals": world.refused[:5],
        "missing_on_topic": len(committed - on_topic),
        "missing_in_trust": len(committed - by_trust),
        "missing_in_matching": len(committed - set(by_matching)),
        "answered_but_not_committed": len(answered_missing),
        "copies_on_topic": sum(copies.values()),
        "redelivered_copies": sum(n - 1 for n in copies.values()),
        "duplicates": duplicates,
    }
    return ScenarioResult(
        checked=len(committed),
        lost=len(lost) + len(answered_missing),
        duplicate_effects=sum(duplicates.values()),
        recovery_s=0.0,
        details=details,
    )


async def _matching_bookings(ledger: LatestValues) -> dict[str, int]:
    """Every booking id in matching's helper ledger (its latest entry per helper), counted."""
    held: Counter[str] = Counter()
    for value in (await ledger.refresh()).values():
        if value:
            state: dict[str, Any] = json.loads(value)["state"]
            held.update(str(booking_id) for booking_id in state.get("bookings") or {})
    return dict(held)


def _extra(counts: Counter[Any]) -> int:
    return sum(count - 1 for count in counts.values() if count > 1)
