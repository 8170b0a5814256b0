"""What the end-to-end tests share: `kith up` on the test stack, and a street of people on it."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from kith import seeding
from kith.client import send
from kith.demo import MATCHING_GROUP, Person, ask_for_help, sign_up
from kith.running import running_kith
from shared.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.messaging import ensure_topics, group_caught_up
from tests.conftest import Stack
from tests.support import eventually


@asynccontextmanager
async def kith_up(
    stack: Stack,
    state_dir: Path,
    *,
    services: str = "booking,matching,trust",
    replicas: dict[str, int] | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[str, str]]:
    """Run `kith up` against the test stack; yield the API URL and the operator token."""
    async with running_kith(
        bootstrap=stack.bootstrap,
        database_url=stack.database_url,
        state_dir=state_dir,
        services=tuple(services.split(",")),
        replicas=replicas,
        # Tests book visits a day ahead and check in at once (the demo too, with no clock to
        # move): check-in opens days early here. test_rolling_time keeps the default window.
        env={
            "KITH_REGULAR_HOLD_S": "30",
            "KITH_CHECK_IN_OPENS_BEFORE_S": str(3 * 24 * 3600),
            **(env or {}),
        },
        ready_timeout_s=90,
    ) as kith:
        yield kith.api, kith.operator_token


_STEPS = ("identity", "references", "interview", "background_check")


EVERY_DAY = [
    {"weekday": day, "start": "08:00", "end": "20:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


@dataclass(frozen=True)
class Api:
    """A running Kith: its API and the operators' headers."""

    url: str
    operator: dict[str, str]
    bootstrap: str


@dataclass(frozen=True)
class Street:
    """A neighbour and three helpers around them, somewhere no other test lives."""

    neighbour: Person
    helpers: list[Person]


async def new_street(http: httpx.AsyncClient, api: Api, *, vet: bool = True) -> Street:
    """Sign up a neighbour and three helpers in a fresh corner of Britain; vet the helpers."""
    rng = random.Random()
    centre = (rng.uniform(51.0, 55.0), rng.uniform(-3.0, 0.0))
    run = uuid.uuid4().hex[:6]
    # All four in one street cell: matching offers a request to its neighbourhood's helpers,
    # and one round reaches every helper only when they are all about as near the neighbour.
    homes = seeding.homes_in_one_cell(centre, 4, rng)
    helpers = [
        await sign_up(http, f"{name} ({run})", home, ["shopping"], run)
        for name, home in zip(("Ada", "Bilal", "Chen"), homes, strict=False)
    ]
    for helper in helpers:
        await send(http, "PUT", "/v1/me/availability", helper.headers, json={"rules": EVERY_DAY})
        if vet:
            await vet_helper(http, api, helper)
    neighbour = await sign_up(http, f"Mrs Okafor ({run})", homes[3], [], run)
    return Street(neighbour, helpers)


async def vet_helper(http: httpx.AsyncClient, api: Api, helper: Person) -> None:
    """Record every vetting step, and wait until trust's approval reaches booking."""
    operator_token = api.operator["Authorization"].removeprefix("Bearer ")
    seeded = seeding.Person(helper.person_id, helper.token)
    # Each call is a new occasion: the lapse test renews an approval by vetting again.
    occasion = f"-{uuid.uuid4().hex[:8]}"
    await seeding.vet(seeding.Api.over(http), operator_token, seeded, _STEPS, occasion=occasion)
    await eventually(
        partial(approved_for_shopping, http, api, helper), what=f"{helper.name} approved"
    )


async def standing(http: httpx.AsyncClient, api: Api, person: Person) -> dict[str, Any]:
    """Trust's standing for a person, as operators read it."""
    found = await send(http, "GET", f"/v1/operator/people/{person.person_id}", api.operator)
    return dict(found.get("standing") or {})


async def approved_for_shopping(http: httpx.AsyncClient, api: Api, person: Person) -> bool:
    return "shopping" in ((await standing(http, api, person)).get("approved_skills") or {})


async def open_offers(
    http: httpx.AsyncClient, helpers: list[Person], request_id: str
) -> dict[str, dict[str, Any]]:
    """Each helper's open offer of one request, by person id."""
    found: dict[str, dict[str, Any]] = {}
    for helper in helpers:
        for offer in (await send(http, "GET", "/v1/offers", helper.headers))["items"]:
            if offer["request_id"] == request_id and offer["status"] == "open":
                found[helper.person_id] = offer
    return found


async def offers_of_request(http: httpx.AsyncClient, street: Street, request_id: str) -> str:
    """Every offer of one request, in any status, per helper: what a failed wait saw."""
    seen = []
    for index, helper in enumerate(street.helpers):
        items = (await send(http, "GET", "/v1/offers", helper.headers))["items"]
        mine = [(o["round"], o["status"]) for o in items if o["request_id"] == request_id]
        seen.append(f"helper {index}: {mine or 'no offer'}")
    return ", ".join(seen)


async def offered_to_all(
    http: httpx.AsyncClient, helpers: list[Person], request_id: str
) -> dict[str, dict[str, Any]] | None:
    offers = await open_offers(http, helpers, request_id)
    return offers if len(offers) == len(helpers) else None


async def book_first_request(http: httpx.AsyncClient, street: Street) -> tuple[Person, str]:
    """The neighbour asks; the first helper offered accepts; return them and the booking."""
    request = await ask_for_help(http, street.neighbour, day=1)
    # The street's first request waits on matching reading everything just seeded: with the
    # suite's other workers on two cores, that took more than the default minute.
    offers = await eventually(
        partial(open_offers, http, street.helpers, request["request_id"]),
        timeout_s=120,
        what="an offer of the first request",
    )
    helper = next(h for h in street.helpers if h.person_id in offers)
    offer_id = offers[helper.person_id]["offer_id"]
    booking = await send(http, "POST", f"/v1/offers/{offer_id}/accept", helper.headers)
    return helper, str(booking["booking_id"])


async def matching_caught_up(api: Api, topic: Any) -> bool:
    return await group_caught_up(api.bootstrap, MATCHING_GROUP, topic)


@asynccontextmanager
async def fresh_stack(stack: Stack, folder: Path) -> AsyncIterator[Stack]:
    """A fresh embedded broker and database in ``folder`` (the session's external ones when
    configured).

    A Kith started on a test worker's shared broker reads everything the worker's earlier
    tests left there first: matching recovers its tables from their whole changelogs, and its
    group's earlier members leave it waiting for partitions. In CI that took past the tests'
    deadlines; a broker of its own holds only this Kith's history.
    """
    if os.environ.get("KITH_TEST_KAFKA_BOOTSTRAP") or os.environ.get("KITH_TEST_DATABASE_URL"):
        yield stack
        return
    broker = EmbeddedBroker(log_path=folder / "broker.log")
    database = EmbeddedPostgres(folder / "postgres" / "data")
    broker.start()
    try:
        database.start()
        try:
            own = Stack(broker.bootstrap, database.url, folder / "state", broker)
            await ensure_topics(own.settings())
            yield own
        finally:
            database.stop()
    finally:
        broker.stop()
