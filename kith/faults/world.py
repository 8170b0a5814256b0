"""Seeding a scenario's neighbourhoods through the booking API (``kith.seeding``), with
places chosen so that each neighbourhood lands on a partition of our choice.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
from aiokafka.partitioner import murmur2

from kith import seeding
from kith.seeding import Api, ApiRefused, Person, approved, until_approved, vet
from shared import clock
from shared.contracts.topics import NEIGHBOURHOOD_PARTITIONS
from shared.geo import neighbourhood_of

__all__ = [
    "Api",
    "ApiRefused",
    "Person",
    "Place",
    "approved",
    "ask",
    "hour_from_now",
    "offer_every_hour",
    "partition_of",
    "places",
    "sign_up",
    "until_approved",
    "vet",
    "vetted_helpers",
]

#: A corner of Hackney, London, where the scenarios' neighbourhoods start.
_ORIGIN = (51.5450, -0.0553)


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
    person, _ = await seeding.sign_up(
        api,
        (place.lat, place.lng),
        skills=skills,
        label=label,
        radius_km=radius_km,
        password="faults-password",
        domain="faults.kith.example",
    )
    return person


async def offer_every_hour(api: Api, person: Person) -> None:
    """Offer every hour of every day (UTC) over booking's horizon."""
    await seeding.set_hours(api, person.token, seeding.every_hour())


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
    start = (clock.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
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
