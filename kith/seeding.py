"""Seeding a Kith through its booking API: the one toolkit the scenarios and the simulation
share for signing people up, giving them hours and having an operator vet them.

Every create carries an ``Idempotency-Key``, so a call retried after a booking process died
mid-way creates nothing twice: the retry gets the first answer, or does the work if it never
committed.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import httpx

from kith.client import ApiError, until
from shared.contracts import Envelope
from shared.contracts.bookings import BookingConfirmed
from shared.contracts.skills import Skill
from shared.geo import cell_of, neighbourhood_of

__all__ = [
    "BASIC_VETTING",
    "WEEKDAYS",
    "Api",
    "ApiRefused",
    "Person",
    "approved",
    "every_hour",
    "homes_in_one_cell",
    "set_hours",
    "sign_up",
    "until_approved",
    "vet",
]

#: Enough for shopping, company, forms and phones, gardening and dog walking.
BASIC_VETTING = ("identity", "references", "interview")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RETRY_FOR_S = 90.0


class ApiRefused(ApiError):
    """The API answered 4xx: ``status`` says how (401 signed out, 409 conflict, ...)."""

    def __init__(self, message: str, status: int, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        """The problem's ``detail``: what the API said was wrong."""


class Api:
    """Calls on booking APIs, retried across a booking process's death and restart.

    Args:
        bases: One base URL per booking process; calls go round them in turn.
        concurrency: Connections per base URL.
    """

    def __init__(self, *bases: str, concurrency: int = 32) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._clients = [httpx.AsyncClient(base_url=b, timeout=30, limits=limits) for b in bases]
        self._owned = True
        self._turn = itertools.cycle(range(len(self._clients)))
        self.retries = 0
        """Calls sent again after the connection failed or the server answered 5xx."""

    @classmethod
    def over(cls, *clients: httpx.AsyncClient) -> Api:
        """Calls through clients the caller already has (and closes): the demo's, a test's."""
        api = cls()
        api._clients = list(clients)
        api._owned = False
        api._turn = itertools.cycle(range(len(clients)))
        return api

    async def close(self) -> None:
        """Close every connection this ``Api`` opened."""
        if self._owned:
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
            ApiRefused: The API refused the call (4xx).
            ApiError: It never answered within 90 s.
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
                        raise ApiRefused(
                            f"{method} {path} answered {response.status_code}: {response.text}",
                            response.status_code,
                            _detail(response),
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


def _detail(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return response.text[:200]
    return (
        str(problem.get("detail") or problem.get("title") or "")
        if isinstance(problem, dict)
        else ""
    )


@dataclass(frozen=True)
class Person:
    """An account made for a scenario."""

    person_id: str
    token: str


async def sign_up(
    api: Api,
    home: tuple[float, float],
    *,
    skills: Iterable[str],
    label: str,
    display_name: str | None = None,
    address: str | None = None,
    radius_km: float = 5,
    weekly_hour_cap: int = 60,
    time_zone: str = "UTC",
    password: str = "seeded-password",
    domain: str = "seeded.kith.example",
) -> tuple[Person, str]:
    """An account at ``home`` (lat, lng); ``label`` (letters, digits and dashes) keys the
    call and begins the email, and names the person unless ``display_name`` does.

    Returns the person and the email they sign in with (with ``password``).
    """
    email = f"{label}.{uuid.uuid4().hex[:8]}@{domain}"
    body = {
        "display_name": (display_name or label)[:80],
        "email": email,
        "password": password,
        "home": {
            "lat": home[0],
            "lng": home[1],
            "address": address or f"{len(label)} Seeded Street",
        },
        "time_zone": time_zone,
        "skills": list(skills),
        "travel_radius_km": radius_km,
        "weekly_hour_cap": weekly_hour_cap,
        "languages": ["en"],
    }
    created = await api.call("POST", "/v1/people", json=body, key=f"sign-up-{label}")
    return Person(str(created["person_id"]), str(created["token"])), email


async def set_hours(api: Api, token: str, rules: list[dict[str, str]]) -> None:
    """Replace a person's weekly hours (``{"weekday", "start", "end"}`` in their time zone)."""
    await api.call("PUT", "/v1/me/availability", token=token, json={"rules": rules})


def homes_in_one_cell(
    centre: tuple[float, float], count: int, rng: random.Random | None = None
) -> list[tuple[float, float]]:
    """``count`` homes within a few dozen metres of ``centre``, all in one street cell (so in
    one neighbourhood, whose helpers matching offers its requests to, and about as near
    each other): one round of offers reaches every helper among them."""
    rng = rng or random.Random()
    while True:
        homes = [
            (centre[0] + rng.uniform(-0.0005, 0.0005), centre[1] + rng.uniform(-0.0007, 0.0007))
            for _ in range(count)
        ]
        if len({cell_of(*home) for home in homes}) == 1:
            return homes


def every_hour() -> list[dict[str, str]]:
    """Weekly rules covering every hour of every day."""
    return [{"weekday": day, "start": "00:00", "end": "24:00"} for day in WEEKDAYS]


async def vet(
    api: Api,
    operator_token: str,
    person: Person,
    steps: Iterable[str] = BASIC_VETTING,
    *,
    occasion: str = "",
) -> None:
    """Record vetting steps (the basic ones by default: enough for shopping and company).

    A retried call records each step once; a renewal is another ``occasion`` (any string
    not used before for this person), whose steps are recorded afresh.
    """
    for step in steps:
        await api.call(
            "POST",
            f"/v1/operator/people/{person.person_id}/vetting-steps",
            token=operator_token,
            json={"step": step},
            key=f"vet-{person.person_id}-{step}{occasion}",
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


def confirmed_visit(
    helper_id: uuid.UUID,
    neighbour_id: uuid.UUID,
    home: tuple[float, float],
    starts_at: datetime,
    *,
    producer: str,
    skill: Skill = Skill.SHOPPING,
    hours: int = 1,
) -> Envelope[BookingConfirmed]:
    """A visit (an hour of shopping unless said) booked between two people, as booking
    announces it: for runs that need what follows a booking (notices, reminders) without
    walking one through the API."""
    return Envelope.wrap(
        BookingConfirmed(
            booking_id=uuid.uuid4(),
            request_id=uuid.uuid4(),
            offer_id=uuid.uuid4(),
            helper_id=helper_id,
            neighbour_id=neighbour_id,
            neighbourhood=neighbourhood_of(*home),
            skill=skill,
            starts_at=starts_at,
            hours=hours,
        ),
        producer=producer,
    )
