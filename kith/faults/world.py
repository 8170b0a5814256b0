"""Seeding a scenario's neighbourhoods through the booking API, with retries that survive a
killed booking process.

Every create carries an ``Idempotency-Key``, so a call retried after the process died mid-way
creates nothing twice: the retry gets the first answer, or does the work if it never
committed. Places are chosen so that each neighbourhood lands on a partition of our choice.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import h3
import httpx
from aiokafka.partitioner import murmur2

from kith.client import ApiError, until
from shared.contracts.topics import NEIGHBOURHOOD_PARTITIONS
from shared.geo import neighbourhood_of

#: A corner of Hackney, London, where the scenarios' neighbourhoods start.
_ORIGIN = (51.5450, -0.0553)
_BASIC_VETTING = ("identity", "references", "interview")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RETRY_FOR_S = 90.0


class Api:
    """Calls on booking APIs, retried across a booking process's death and restart.

    Args:
        bases: One base URL per booking process; calls go round them in turn.
        concurrency: Connections per base URL.
    """

    def __init__(self, *bases: str, concurrency: int = 32) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._clients = [httpx.AsyncClient(base_url=b, timeout=30, limits=limits) for b in bases]
        self._turn = itertools.cycle(range(len(self._clients)))
        self.retries = 0
        """Calls sent again after the connection failed or the server answered 5xx."""

    async def close(self) -> None:
        """Close every connection."""
        await asyncio.gather(*(client.aclose() for client in self._clients))

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: dict[str, Any] | None = None,
        key: str | None = None,
        via: int | None = None,
    ) -> dict[str, Any]:
        """Call the API until it answers; return the JSON body.

        Raises:
            ApiError: The API refused the call (4xx), or never answered within 90 s.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        client = self._clients[next(self._turn) if via is None else via % len(self._clients)]
        deadline = time.monotonic() + _RETRY_FOR_S
        pause = 0.02
        while True:
            try:
                response = await client.request(method, path, headers=headers, json=json)
            except httpx.TransportError as error:
                failure = repr(error)
            else:
                if response.status_code < 500:
                    if response.status_code >= 400:
                        raise ApiError(
                            f"{method} {path} answered {response.status_code}: {response.text}"
                        )
                    body: dict[str, Any] = response.json() if response.content else {}
                    return body
                failure = f"{response.status_code} {response.text[:200]}"
            if time.monotonic() > deadline:
                raise ApiError(f"{method} {path} failed for {_RETRY_FOR_S:.0f}s: {failure}")
            self.retries += 1
            # The process is down or restarting: back off a little, up to a quarter second.
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.25)


@dataclass(frozen=True)
class Person:
    """An account made for a scenario."""

    person_id: str
    token: str


@dataclass(frozen=True)
class Place:
    """A point whose neighbourhood is keyed onto ``partition`` of the neighbourhood streams."""

    lat: float
    lng: float
    neighbourhood: str
    partition: int


def partition_of(key: str, partitions: int = NEIGHBOURHOOD_PARTITIONS) -> int:
    """The partition the default partitioner gives ``key`` (as every Kith producer uses)."""
    return (int(murmur2(key.encode())) & 0x7FFFFFFF) % partitions


def places(count: int, *, partitions: int = NEIGHBOURHOOD_PARTITIONS) -> list[Place]:
    """``count`` distinct neighbourhoods, covering every partition before repeating one.

    Each place is its neighbourhood's centre, so everyone seeded there shares the cell.
    """
    found: list[Place] = []
    seen: set[str] = set()
    covered: set[int] = set()
    for step in itertools.count():
        # Walk east in ~3 km steps, then on a new row: neighbourhoods are ~5 km² each.
        row, column = divmod(step, 40)
        lat, lng = _ORIGIN[0] + row * 0.03, _ORIGIN[1] + column * 0.045
        cell = neighbourhood_of(lat, lng)
        partition = partition_of(cell, partitions)
        if cell in seen or (len(covered) < partitions and partition in covered):
            continue
        seen.add(cell)
        covered.add(partition)
        centre = h3.cell_to_latlng(cell)
        found.append(Place(centre[0], centre[1], cell, partition))
        if len(found) == count:
            return found
    raise AssertionError("unreachable")


async def sign_up(
    api: Api, place: Place, *, skills: list[str], label: str, radius_km: float = 5
) -> Person:
    """An account at ``place``; ``label`` makes the email unique and names the person."""
    body = {
        "display_name": label[:80],
        "email": f"{label}.{uuid.uuid4().hex[:8]}@faults.kith.example",
        "password": "faults-password",
        "home": {"lat": place.lat, "lng": place.lng, "address": "1 Fault Street"},
        "time_zone": "UTC",
        "skills": skills,
        "travel_radius_km": radius_km,
        "weekly_hour_cap": 60,
        "languages": ["en"],
    }
    created = await api.call("POST", "/v1/people", json=body, key=f"sign-up-{label}")
    return Person(str(created["person_id"]), str(created["token"]))


async def offer_every_hour(api: Api, person: Person) -> None:
    """Offer every hour of every day (UTC) over booking's horizon."""
    rules = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in _WEEKDAYS]
    await api.call("PUT", "/v1/me/availability", token=person.token, json={"rules": rules})


async def vet(api: Api, operator_token: str, person: Person) -> None:
    """Record the basic vetting steps (enough for shopping and company)."""
    for step in _BASIC_VETTING:
        await api.call(
            "POST",
            f"/v1/operator/people/{person.person_id}/vetting-steps",
            token=operator_token,
            json={"step": step},
            key=f"vet-{person.person_id}-{step}",
        )


async def approved(api: Api, operator_token: str, person: Person, skill: str) -> bool:
    """Whether trust's approval of ``skill`` for ``person`` has reached booking."""
    found = await api.call("GET", f"/v1/operator/people/{person.person_id}", token=operator_token)
    return skill in ((found.get("standing") or {}).get("approved_skills") or {})


async def until_approved(
    api: Api, operator_token: str, people: list[Person], skill: str = "shopping"
) -> None:
    """Wait until trust's approval of ``skill`` for each of ``people`` has reached booking."""
    for person in people:
        await until(
            partial(approved, api, operator_token, person, skill), 60, "trust to approve helpers"
        )


async def vetted_helpers(
    api: Api, operator_token: str, place: Place, count: int, *, label: str
) -> list[Person]:
    """``count`` helpers at ``place`` offering shopping every hour, vetted by an operator."""

    async def one(index: int) -> Person:
        helper = await sign_up(
            api, place, skills=["shopping", "company"], label=f"{label}-helper-{index}"
        )
        await offer_every_hour(api, helper)
        await vet(api, operator_token, helper)
        return helper

    return list(await asyncio.gather(*(one(index) for index in range(count))))


def hour_from_now(hours: int, *, days: int = 1) -> datetime:
    """A start on the hour, ``days`` days and ``hours`` hours from now (UTC)."""
    start = (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return start + timedelta(hours=hours)


async def ask(
    api: Api, neighbour: Person, starts_at: datetime, *, key: str, via: int | None = None
) -> str:
    """One hour of help with shopping; the request's id."""
    created = await api.call(
        "POST",
        "/v1/requests",
        token=neighbour.token,
        json={"skill": "shopping", "starts_at": starts_at.isoformat(), "hours": 1},
        key=key,
        via=via,
    )
    return str(created["occurrences"][0]["request_id"])
