"""``broker_restart``: the embedded broker restarts empty; Kith replays what PostgreSQL holds.

The embedded broker keeps topics in memory, and it lives and dies with ``kith up``: so the
scenario stops the services, restarts the broker empty on the same port (topics recreated,
no message, no committed offset, no consumer group), and starts the services again. Booking
and trust find the broker short of what their outboxes published and send it all again;
matching, whose tables lived only in changelog topics, rebuilds them from those streams.

Before the restart, a small history is made through the API: vetted helpers, a visit that
happened, both people saying they would meet again, and then a request (offered, recorded,
then cancelled). What is checked:

* lost: an event an outbox holds (and means to send again) that is not on its topic after
  the replay; and the same request asked again after the restart not being offered to the
  same helpers, in the same round, for the same reasons (matching lost some of its state);
* duplicate effects: any row of booking's or trust's state that the replay changed (an event
  applied twice, a settled request offered again);
* recovery: from stopping the old broker until the outboxes are published and every group
  has read everything.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from kith.client import ApiError, until
from kith.faults.groups import service_groups
from kith.faults.platform import Platform, platform
from kith.faults.processes import ServiceProcess
from kith.faults.reading import caught_up, events_of, read_only, read_topics
from kith.faults.result import ScenarioResult
from kith.faults.world import (
    Api,
    Person,
    ask,
    hour_from_now,
    places,
    sign_up,
    until_approved,
    vetted_helpers,
)
from shared.contracts.requests import OfferMade
from shared.contracts.topics import (
    ALL_TOPICS,
    AVAILABILITY,
    OFFERS,
    PEOPLE,
    REQUESTS,
    STANDING,
    Topic,
)

log = structlog.get_logger(__name__)


def groups() -> dict[str, tuple[Topic, ...]]:
    """Every group the scenario waits on, with every topic its service reads."""
    return {group.group_id: group.topics for group in service_groups().values()}


#: Each table's key and the columns that say what a row means (times of writing left out).
_STATE: dict[str, dict[str, tuple[str, str]]] = {
    "booking": {
        "requests": ("request_id", "status"),
        "offers": ("offer_id", "request_id, helper_id, round, status"),
        "bookings": ("booking_id", "helper_id, status, checked_in_at, completed_at"),
        "relationships": ("pair_id", "stage, visits, both_want_again, matchable"),
        "standing": ("person_id", "suspended, approved_skills, late_cancellations, no_shows"),
        "checkins": ("checkin_id", "see_again, as_agreed"),
    },
    "trust": {
        "relationships": (
            "pair_id",
            "stage, visits, hours_together, matchable, helper_see_again, neighbour_see_again",
        ),
        "people": ("person_id", "suspended, approved_skills, late_cancellations, no_shows"),
        "counted_visits": ("booking_id", "pair_id"),
        "checkins": ("checkin_id", "see_again"),
        "vetting_steps": ("event_id", "step"),
    },
}
Offered = list[tuple[str, int, list[tuple[str, str]]]]


async def run_broker_restart(folder: Path) -> ScenarioResult:
    """Make a history, restart the broker empty, and check what came back."""
    # The history's visit is a day ahead and checked in at once: check-in opens days early.
    async with platform(folder, env={"KITH_CHECK_IN_OPENS_BEFORE_S": str(3 * 24 * 3600)}) as kith:
        booking = kith.add("booking", http=True)
        services = [booking, kith.add("trust"), kith.add("matching")]
        await kith.start_all(*services)
        api = Api(booking.api)
        try:
            neighbour, starts_at, before = await _history(api, kith)
            await _until_quiet(kith)
            state_before = await _state(kith)
            expected, not_replayed = await _replayable(kith)
            log.info("broker_restart: restarting the broker empty", events=len(expected))
            restarted = time.monotonic()
            await _restart_everything(kith, services)
            await _until_quiet(kith)
            recovery_s = time.monotonic() - restarted
            state_after = await _state(kith)
            on_topics = {
                envelope.event_id
                for _, envelope in events_of(
                    await read_topics(kith.bootstrap, [t.name for t in ALL_TOPICS])
                )
            }
            missing = [event_id for event_id in expected if event_id not in on_topics]
            after = await _offered_for(api, kith, neighbour, starts_at, key="after")
        finally:
            await api.close()
    changed = _changes(state_before, state_after)
    same_offers = after == before
    return ScenarioResult(
        checked=len(expected) + 1,
        lost=len(missing) + (0 if same_offers else 1),
        duplicate_effects=len(changed),
        recovery_s=recovery_s,
        details={
            "events_replayed": len(expected),
            "settled_requests_not_replayed": not_replayed,
            "missing_on_topics": [str(e) for e in missing[:5]],
            "matched_as_before": same_offers,
            "offers_before": before,
            "offers_after": after,
            "state_changed_by_replay": changed[:10],
        },
    )


async def _history(api: Api, kith: Platform) -> tuple[Person, datetime, Offered]:
    """Helpers, a visit that happened and a pair that wants to meet again, then a request
    whose offers are recorded before it is cancelled. Returns the neighbour, the request's
    start and its offers."""
    place = places(1)[0]
    run = uuid.uuid4().hex[:6]
    helpers = await vetted_helpers(api, kith.operator_token, place, 4, label=f"br-{run}")
    neighbour = await sign_up(api, place, skills=[], label=f"br-{run}-neighbour")
    await until_approved(api, kith.operator_token, helpers)
    await _until_read(kith, _group("matching"), (PEOPLE, AVAILABILITY, STANDING))
    first = await ask(api, neighbour, hour_from_now(10, days=1), key=f"{run}-first")
    await _until_read(kith, _group("matching"), (REQUESTS,))
    await _until_read(kith, _group("booking"), (OFFERS,))
    offer = await _an_offer(api, helpers, first)
    holder = next(h for h in helpers if h.person_id == offer["helper_id"])
    booked = await api.call("POST", f"/v1/offers/{offer['offer_id']}/accept", token=holder.token)
    booking_id = booked["booking_id"]
    for step in ("check-in", "check-out"):
        await api.call("POST", f"/v1/bookings/{booking_id}/{step}", token=holder.token)
    for person in (holder, neighbour):
        await api.call(
            "POST",
            f"/v1/bookings/{booking_id}/check-ins",
            token=person.token,
            json={"see_again": "yes", "as_agreed": "yes"},
            key=f"{run}-checkin-{person.person_id}",
        )
    await _until_quiet(kith)
    starts_at = hour_from_now(10, days=2)
    before = await _offered_for(api, kith, neighbour, starts_at, key=f"{run}-before")
    request_id = await _latest_request(api, neighbour)
    await api.call("POST", f"/v1/requests/{request_id}/cancel", token=neighbour.token)
    return neighbour, starts_at, before


async def _an_offer(api: Api, helpers: list[Person], request_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for helper in helpers:
            inbox = await api.call("GET", "/v1/offers", token=helper.token)
            for offer in inbox["items"]:
                if offer["request_id"] == request_id and offer["status"] == "open":
                    return {**offer, "helper_id": helper.person_id}
        return None

    return await until(probe, 60, "an offer of the first request")


async def _latest_request(api: Api, neighbour: Person) -> str:
    cursor: str | None = None
    last = ""
    while True:
        path = "/v1/requests?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = await api.call("GET", path, token=neighbour.token)
        if page["items"]:
            last = str(page["items"][-1]["request_id"])
        cursor = page.get("next_cursor")
        if not cursor:
            return last


async def _offered_for(
    api: Api, kith: Platform, neighbour: Person, starts_at: datetime, *, key: str
) -> Offered:
    """Ask for help at ``starts_at``; once matching has decided, its offers (by helper)."""
    request_id = await ask(api, neighbour, starts_at, key=key)

    async def decided() -> Offered | None:
        if not await caught_up(kith.bootstrap, _group("matching"), [REQUESTS]):
            return None
        offers = [
            envelope.data
            for _, envelope in events_of(await read_topics(kith.bootstrap, [OFFERS.name]))
            if isinstance(envelope.data, OfferMade) and str(envelope.data.request_id) == request_id
        ]
        return (
            sorted(
                (
                    str(o.helper_id),
                    o.round,
                    [(str(r.code), r.text) for r in o.reasons],
                )
                for o in {o.offer_id: o for o in offers}.values()
            )
            or None
        )

    try:
        return await until(decided, 60, "matching to offer the request", every_s=0.2)
    except ApiError:
        return []  # never offered: reported as lost, not raised


async def _until_read(kith: Platform, group: str, topics: tuple[Any, ...]) -> None:
    async def probe() -> bool:
        return await caught_up(kith.bootstrap, group, topics)

    await until(probe, 120, f"{group} to read everything", every_s=0.2)


def _group(service: str) -> str:
    return service_groups()[service].group_id


async def _until_quiet(kith: Platform) -> None:
    """Every outbox published and every group caught up with every topic it reads."""
    settings = kith.settings()

    async def published() -> bool:
        for service in ("booking", "trust"):
            async with read_only(settings.database_for(service)) as db:
                if await db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                    return False
        return True

    await until(published, 120, "the outboxes to be published", every_s=0.1)
    for group, topics in groups().items():
        await _until_read(kith, group, topics)


async def _restart_everything(kith: Platform, services: list[ServiceProcess]) -> None:
    await asyncio.gather(*(service.stop() for service in services))
    await kith.restart_broker_empty()
    await kith.start_all(*services)


async def _replayable(kith: Platform) -> tuple[list[uuid.UUID], int]:
    """The event ids the outboxes will send again, and how many booking keeps back."""
    from services.booking.adapters.replay import SETTLED_REQUESTS

    settings = kith.settings()
    async with read_only(settings.database_for("booking")) as db:
        kept = await db.fetch(f"SELECT event_id FROM outbox WHERE NOT ({SETTLED_REQUESTS})")
        total = await db.fetchval("SELECT count(*) FROM outbox")
    async with read_only(settings.database_for("trust")) as db:
        replayed = [*kept, *await db.fetch("SELECT event_id FROM outbox")]
    return [row["event_id"] for row in replayed], int(total) - len(kept)


async def _state(kith: Platform) -> dict[str, str]:
    """Every meaningful row of booking's and trust's state, by ``service.table.key``."""
    rows: dict[str, str] = {}
    for service, tables in _STATE.items():
        async with read_only(kith.settings().database_for(service)) as db:
            for table, (key, columns) in tables.items():
                for row in await db.fetch(f"SELECT {key} AS key, {columns} FROM {table}"):
                    values = dict(row)
                    rows[f"{service}.{table}.{values.pop('key')}"] = repr(sorted(values.items()))
    return rows


def _changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    changed = [f"changed {key}" for key in before if key in after and after[key] != before[key]]
    changed += [f"removed {key}" for key in before if key not in after]
    changed += [f"added {key}" for key in after if key not in before]
    return changed
