"""``kith demo``: a small neighbourhood walked through one whole visit, over the real API.

Three vetted helpers and a neighbour sign up; the neighbour asks for help; matching offers it;
a helper accepts; the visit happens; both say privately they would like to meet again; trust
records the pair; and the neighbour's next request goes to the same helper first.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
from rich.console import Console

from kith import seeding
from kith.client import ApiError, send, until
from services.matching.filing import filing_topics
from shared import clock
from shared.contracts.topics import (
    AVAILABILITY,
    NEIGHBOURHOOD_PARTITIONS,
    PEOPLE,
    RELATIONSHIPS,
    STANDING,
    KeyBy,
    Topic,
)
from shared.messaging import group_caught_up
from shared.messaging.connection import Kafka

T = TypeVar("T")

#: Matching's consumer group (its faust app id).
MATCHING_GROUP = "kith-matching"

#: Where each run's neighbourhood is drawn from: England and Wales, over 10,000
#: neighbourhoods, so that a run never meets the people of an earlier one (who would be
#: offered its requests first, having said "again" or being nearer).
_AREA = ((50.8, 53.8), (-3.0, 0.3))
_STEPS = ("identity", "references", "interview", "background_check")


#: Matching's internal topics that file each helper in every neighbourhood within reach.
FILING_TOPICS = tuple(
    Topic(name, NEIGHBOURHOOD_PARTITIONS, KeyBy.NEIGHBOURHOOD)
    for name in filing_topics(MATCHING_GROUP)
)

#: A step of the demo was refused, or did not happen in time.
DemoFailed = ApiError


@dataclass(frozen=True)
class Person:
    """A demo account."""

    name: str
    person_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class DemoResult:
    """What the demo saw, for tests to check."""

    helpers: list[Person]
    neighbour: Person
    first_offer: dict[str, Any]
    booking: dict[str, Any]
    relationship: dict[str, Any]
    second_offers: list[tuple[str, dict[str, Any]]]


async def run_demo(
    api: str,
    *,
    operator_token: str,
    kafka: Kafka | None = None,
    console: Console | None = None,
    timeout_s: float = 120,
    matching_timeout_s: float | None = None,
    centre: tuple[float, float] | None = None,
    clock_file: Path | None = None,
) -> DemoResult:
    """Drive the whole flow through the booking API at ``api``; print each step.

    With ``kafka``, the demo waits until matching has read the people, their hours
    and trust's approvals before the first request, and every relationship before asking
    again: in life days pass between these steps, and matching learns of each on a different
    stream from the one the request arrives on; that wait allows ``matching_timeout_s`` (else
    ``timeout_s``). Everyone lives near ``centre``, a new place
    each run unless given.

    A helper checks in only around the visit's time: with ``clock_file`` (a development Kith's
    movable clock) the demo moves every process's clock on to the visit's start, as the day
    passing would; without it, the Kith must accept the check-in already.
    """
    out = console or Console(highlight=False)
    operator = {"Authorization": f"Bearer {operator_token}"}
    run = uuid.uuid4().hex[:6]
    rng = random.Random(run)
    centre = centre or _centre(rng)
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        out.print(f"[bold]Kith demo[/] against {api}")
        await until(partial(_answers, http), timeout_s, f"booking's API to answer at {api}")
        helpers = [
            await sign_up(http, f"{name} ({run})", _near(rng, centre), ["shopping", "company"], run)
            for name in ("Ada", "Bilal", "Chen")
        ]
        seeder = seeding.Api.over(http)
        hours = [{"weekday": day, "start": "08:00", "end": "20:00"} for day in seeding.WEEKDAYS]
        for helper in helpers:
            await seeding.set_hours(seeder, helper.token, hours)
            seeded = seeding.Person(helper.person_id, helper.token)
            await seeding.vet(seeder, operator_token, seeded, _STEPS)
        out.print(
            f"  3 helpers signed up, offering hours every day, vetted by an operator: "
            f"{', '.join(h.name for h in helpers)}"
        )
        for helper in helpers:
            await until(
                partial(_vetted, http, operator, helper.person_id),
                timeout_s,
                f"trust to approve {helper.name}",
            )
        out.print("  trust approved them for shopping and company")
        neighbour = await sign_up(http, f"Mrs Okafor ({run})", _near(rng, centre), [], run)
        out.print(f"  neighbour signed up: {neighbour.name}")
        if kafka:
            await until(
                partial(matching_knows_people, kafka),
                matching_timeout_s or timeout_s,
                "matching to read the people, their hours and approvals",
            )

        first_request = await ask_for_help(http, neighbour, day=1)
        out.print(
            f"  {neighbour.name} asks for help with shopping, "
            f"{first_request['starts_at']} for 1 hour"
        )
        first_offers = await _await_offers(http, helpers, first_request, timeout_s, out, "")
        holder, offer = first_offers[0]
        booking = await send(http, "POST", f"/v1/offers/{offer['offer_id']}/accept", holder.headers)
        out.print(f"  [cyan]booked[/]: {holder.name} accepted, booking {booking['booking_id']}")
        if clock_file is not None:
            ahead = _until(first_request["starts_at"], clock.read_offset(clock_file))
            if ahead > timedelta(0):
                clock.advance(clock_file, ahead)
                out.print(f"  [dim]the clock moves on {ahead} to the visit's start[/]")
        await send(http, "POST", f"/v1/bookings/{booking['booking_id']}/check-in", holder.headers)
        await send(http, "POST", f"/v1/bookings/{booking['booking_id']}/check-out", holder.headers)
        out.print("  visit checked in and out: completed")
        for person in (holder, neighbour):
            await send(
                http,
                "POST",
                f"/v1/bookings/{booking['booking_id']}/check-ins",
                person.headers,
                json={"see_again": "yes", "as_agreed": "yes"},
            )
        out.print("  both said, privately, that they would like to see each other again")
        relationship = await until(
            partial(_relationship, http, operator, neighbour, holder),
            timeout_s,
            "trust to record the relationship",
        )
        out.print(
            f"  [green]relationship[/]: {holder.name} and {neighbour.name} — "
            f"stage {relationship['stage']}, {relationship['visits']} visit(s)"
        )

        if kafka:
            await until(
                partial(matching_caught_up, kafka, RELATIONSHIPS),
                timeout_s,
                "matching to learn of the relationship",
            )
        second_request = await ask_for_help(http, neighbour, day=8)
        out.print(f"  {neighbour.name} asks again, for {second_request['starts_at']}")
        second_offers = await _await_offers(
            http, helpers, second_request, timeout_s, out, ", alone first"
        )
        out.print(
            "[bold green]Done:[/] an offer, a booking, a visit and a relationship that "
            "brings the same people back together."
        )
        return DemoResult(
            helpers,
            neighbour,
            offer,
            booking | {"helper_id": holder.person_id},
            relationship,
            [(helper.person_id, offer) for helper, offer in second_offers],
        )


def _until(starts_at: str, offset: timedelta) -> timedelta:
    """How far the clock (``offset`` ahead of real time) is from ``starts_at``."""
    return datetime.fromisoformat(starts_at) - (clock.wall_now() + offset)


#: How long matching may take to read a broker's history after it starts: it files every
#: helper it reads in each neighbourhood in reach, and a broker that served many runs (a test
#: worker's, after dozens of end-to-end tests) holds a long one.
MATCHING_CATCH_UP_S = 300.0


async def matching_knows_people(kafka: Kafka) -> bool:
    """Whether matching has read every profile, every person's hours and trust's standing,
    and filed each helper in every neighbourhood within their reach."""
    return await matching_caught_up(kafka, PEOPLE, AVAILABILITY, STANDING)


async def matching_caught_up(kafka: Kafka, *topics: Topic) -> bool:
    """Whether matching has read everything on ``topics`` and filed what it learnt of
    helpers there: checked in that order, so each step's output is there to be waited for."""
    for topic in (*topics, *FILING_TOPICS):
        if not await group_caught_up(kafka, MATCHING_GROUP, topic):
            return False
    return True


def _centre(rng: random.Random) -> tuple[float, float]:
    """A run's own place."""
    (south, north), (west, east) = _AREA
    return rng.uniform(south, north), rng.uniform(west, east)


def _near(rng: random.Random, centre: tuple[float, float]) -> tuple[float, float]:
    """A home a few streets from ``centre``: within about 450 m, in whichever neighbourhood
    cell it falls (matching asks every helper whose radius reaches the neighbour)."""
    return centre[0] + rng.uniform(-0.004, 0.004), centre[1] + rng.uniform(-0.006, 0.006)


async def _answers(http: httpx.AsyncClient) -> bool:
    """Whether booking's API answers: the demo says so at once rather than leave seeding to
    retry each call as it would through a restart."""
    try:
        return (await http.get("/health")).status_code == 200
    except httpx.TransportError:
        return False


async def sign_up(
    http: httpx.AsyncClient, name: str, home: tuple[float, float], skills: list[str], run: str
) -> Person:
    """Sign a person up near ``home`` through the seeding toolkit; ``run`` keeps emails unique
    across demo runs."""
    person, _ = await seeding.sign_up(
        seeding.Api.over(http),
        home,
        skills=skills,
        label=f"{name.split()[0].lower()}-{run}",
        display_name=name,
        address="1 Demo Street",
        radius_km=3,
        weekly_hour_cap=10,
        time_zone="Europe/London",
        password="demo-password",
        domain="demo.kith.example",
    )
    return Person(name, person.person_id, person.token)


async def ask_for_help(http: httpx.AsyncClient, neighbour: Person, *, day: int) -> dict[str, Any]:
    """An hour of help with shopping at 11:00 UTC, ``day`` days from now; its occurrence."""
    start = (clock.now() + timedelta(days=day)).replace(hour=11, minute=0, second=0, microsecond=0)
    created = await send(
        http,
        "POST",
        "/v1/requests",
        neighbour.headers,
        json={
            "skill": "shopping",
            "starts_at": start.isoformat(),
            "hours": 1,
        },
    )
    occurrence: dict[str, Any] = created["occurrences"][0]
    return occurrence


async def _vetted(http: httpx.AsyncClient, operator: dict[str, str], person_id: str) -> bool:
    person = await send(http, "GET", f"/v1/operator/people/{person_id}", operator)
    approved = (person.get("standing") or {}).get("approved_skills") or {}
    return "shopping" in approved


async def _await_offers(
    http: httpx.AsyncClient,
    helpers: list[Person],
    request: dict[str, Any],
    timeout_s: float,
    out: Console,
    note: str,
) -> list[tuple[Person, dict[str, Any]]]:
    """Wait for matching's offers of one request, and print each with its reasons."""
    offers = await until(
        partial(_offers_for, http, helpers, request["request_id"]),
        timeout_s,
        f"matching to offer the request for {request['starts_at']}",
    )
    for helper, offer in offers:
        reasons = "; ".join(reason["text"] for reason in offer["reasons"])
        out.print(f"  [cyan]offer[/] to {helper.name}{note}: {reasons}")
    return offers


async def _offers_for(
    http: httpx.AsyncClient, helpers: list[Person], request_id: str
) -> list[tuple[Person, dict[str, Any]]]:
    """Every helper's open offers for one request (empty until matching has made one)."""
    found = []
    for helper in helpers:
        inbox = await send(http, "GET", "/v1/offers", helper.headers)
        found += [
            (helper, offer)
            for offer in inbox["items"]
            if offer["request_id"] == request_id and offer["status"] == "open"
        ]
    return found


async def _relationship(
    http: httpx.AsyncClient, operator: dict[str, str], neighbour: Person, helper: Person
) -> dict[str, Any] | None:
    """Trust's record of the pair once it holds the visit and both answers (they reach it
    on different topics, so in either order)."""
    path = f"/v1/operator/relationships?person_id={neighbour.person_id}"
    for record in (await send(http, "GET", path, operator))["items"]:
        if (
            str(record["helper_id"]) == helper.person_id
            and record["both_want_again"]
            and record["visits"] >= 1
        ):
            return dict(record)
    return None
