"""Neighbourhoods where matching can offer every request: vetted helpers free every hour and
a neighbour, seeded through the API, with matching shown to have read them.

Shared by the fault scenarios, the scale-out test and the latency benchmark.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from functools import partial

from kith.client import ApiError, until
from kith.demo import FILING_TOPICS
from kith.faults.groups import service_groups
from kith.faults.reading import events_of, read_topics, wait_caught_up
from kith.faults.world import (
    Api,
    Person,
    Place,
    ask,
    hour_from_now,
    places,
    sign_up,
    until_approved,
    vetted_helpers,
)
from shared.contracts.requests import OfferMade, RequestUnmatched
from shared.contracts.topics import AVAILABILITY, OFFERS, PEOPLE, STANDING
from shared.messaging import Kafka

_WARM_UP_TRIES = 5

Decision = OfferMade | RequestUnmatched


@dataclass(frozen=True)
class Neighbourhood:
    """A place on a partition of its own (while there are partitions to go round)."""

    place: Place
    neighbour: Person
    helpers: list[Person]


async def decisions(bootstrap: Kafka) -> dict[str, list[Decision]]:
    """Every offer and escalation now on the offers topic, by request id."""
    found: dict[str, list[Decision]] = defaultdict(list)
    for _, envelope in events_of(await read_topics(bootstrap, [OFFERS.name])):
        if isinstance(envelope.data, OfferMade | RequestUnmatched):
            found[str(envelope.data.request_id)].append(envelope.data)
    return found


async def matched_neighbourhoods(
    api: Api, bootstrap: Kafka, operator_token: str, count: int, *, helpers: int = 3
) -> list[Neighbourhood]:
    """``count`` neighbourhoods whose requests matching offers, ready to be asked.

    Every worker must hold the helpers' standing (a table each worker reads from the other's
    writes) before a request is offered: each neighbourhood is asked once, and again while
    its answer is an escalation, until it gets an offer.
    """
    run = uuid.uuid4().hex[:6]
    hoods = []
    for index, place in enumerate(places(count)):
        label = f"n-{run}-{index}"
        vetted = await vetted_helpers(api, operator_token, place, helpers, label=label)
        neighbour = await sign_up(api, place, skills=[], label=f"{label}-neighbour")
        hoods.append(Neighbourhood(place, neighbour, vetted))
    await until_approved(api, operator_token, [h for hood in hoods for h in hood.helpers])
    await wait_caught_up(
        bootstrap,
        service_groups()["matching"].group_id,
        [PEOPLE, AVAILABILITY, STANDING, *FILING_TOPICS],
    )
    waiting = list(hoods)
    for attempt in range(_WARM_UP_TRIES):
        asked: dict[str, Neighbourhood] = {}
        for hood in waiting:
            starts_at = hour_from_now(attempt, days=3)
            key = f"{run}-warm-{attempt}-{hood.neighbour.person_id}"
            asked[await ask(api, hood.neighbour, starts_at, key=key)] = hood
        seen = await until(
            partial(_all_decided, bootstrap, set(asked)),
            60,
            "matching to answer the warm-up requests",
            every_s=0.2,
        )
        waiting = [hood for request_id, hood in asked.items() if not _offered(seen[request_id])]
        if not waiting:
            return hoods
    raise ApiError(f"{len(waiting)} neighbourhoods never got an offer")


async def _all_decided(bootstrap: Kafka, requests: set[str]) -> dict[str, list[Decision]] | None:
    seen = await decisions(bootstrap)
    return seen if all(seen.get(request_id) for request_id in requests) else None


def _offered(seen: list[Decision]) -> bool:
    return any(isinstance(decision, OfferMade) for decision in seen)
