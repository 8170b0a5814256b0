"""Signing up and in, authenticating, profiles and availability."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from services.booking.adapters.repository import Row
from services.booking.adapters.session_cache import SessionCache
from services.booking.adapters.unit_of_work import UnitOfWork
from services.booking.domain import availability
from services.booking.domain.credentials import Passwords, new_token, token_digest
from services.booking.domain.errors import Conflict, Invalid, NotFound, Unauthorized
from services.booking.service_layer.commands import SetAvailability, SignUp, UpdateProfile
from shared import geo
from shared.contracts import Envelope, utc_now
from shared.contracts.people import AvailabilityChanged, PersonProfileChanged

PRODUCER = "booking"


def profile_event(person: Row) -> PersonProfileChanged:
    """The public, matchable part of a profile: cells only, never the address."""
    return PersonProfileChanged(
        person_id=person["person_id"],
        display_name=person["display_name"],
        neighbourhood=person["neighbourhood"],
        cell=person["cell"],
        skills=person["skills"],
        travel_radius_km=person["travel_radius_km"],
        weekly_hour_cap=person["weekly_hour_cap"],
        languages=person["languages"],
    )


async def sign_up(uow: UnitOfWork, command: SignUp) -> tuple[uuid.UUID, str]:
    """Create an account and a first token; publish the public profile."""
    person: Row = {
        "person_id": uuid.uuid4(),
        "email": command.email,
        "display_name": command.display_name,
        "password_hash": command.password_hash,
        "lat": command.lat,
        "lng": command.lng,
        "address": command.address,
        "phone": command.phone,
        "neighbourhood": geo.neighbourhood_of(command.lat, command.lng),
        "cell": geo.cell_of(command.lat, command.lng),
        "time_zone": command.time_zone,
        "skills": [str(skill) for skill in command.skills],
        "travel_radius_km": command.travel_radius_km,
        "weekly_hour_cap": command.weekly_hour_cap,
        "languages": command.languages,
    }
    token = new_token()
    async with uow.begin() as repo:
        if not await repo.add_person(person):
            raise Conflict("an account with this email exists")
        await repo.add_session(token_digest(token), person["person_id"])
        await repo.publish([Envelope.wrap(profile_event(person), producer=PRODUCER)])
    return person["person_id"], token


async def check_password(
    uow: UnitOfWork, passwords: Passwords, email: str, password: str
) -> uuid.UUID:
    """The person whose email and password these are; ``Unauthorized`` otherwise.

    The hash is checked with no transaction open (it takes tens of milliseconds), and an
    unknown email costs the same check as a wrong password. A hash made with older
    parameters is replaced, unless it changed meanwhile.
    """
    async with uow.read() as repo:
        person = await repo.person_by_email(email)
    stored = person.get("password_hash") if person is not None else None
    checked = await passwords.check(password, stored)
    if person is None or not checked.matches:
        raise Unauthorized("wrong email or password")
    person_id: uuid.UUID = person["person_id"]
    if checked.rehashed is not None:
        async with uow.read() as repo:
            await repo.replace_password_hash(person_id, stored, checked.rehashed)
    return person_id


async def open_session(uow: UnitOfWork, person_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """A new bearer token for a person whose password was checked (or who just signed up)."""
    token = new_token()
    async with uow.begin() as repo:
        if not await repo.person_exists(person_id):
            raise Unauthorized("this account no longer exists")
        await repo.add_session(token_digest(token), person_id)
    return person_id, token


async def forget_expired_idempotency_keys(uow: UnitOfWork, now: datetime, ttl_s: int) -> int:
    """Delete the idempotency records older than ``ttl_s``; return how many."""
    async with uow.read() as repo:
        return await repo.delete_idempotency_keys_before(now - timedelta(seconds=ttl_s))


async def authenticate(
    uow: UnitOfWork, token: str, sessions: SessionCache, max_age_days: int
) -> uuid.UUID:
    """The person a bearer token belongs to (asked of the database unless seen lately); a
    token works for ``max_age_days`` after the sign-up or sign-in that gave it."""
    digest = token_digest(token)
    person_id = sessions.get(digest)
    if person_id is not None:
        return person_id
    asked_at = sessions.sign_outs
    async with uow.read() as repo:
        session = await repo.session(digest)
    if session is None:
        raise Unauthorized("unknown or signed-out token")
    left = session["created_at"] + timedelta(days=max_age_days) - utc_now()
    if left <= timedelta(0):
        raise Unauthorized("this token has expired: sign in again")
    owner: uuid.UUID = session["person_id"]
    sessions.put(digest, owner, asked_at=asked_at, valid_for_s=left.total_seconds())
    return owner


async def forget_expired_sessions(uow: UnitOfWork, max_age_days: int) -> int:
    """Delete the sessions whose tokens have expired; return how many."""
    async with uow.read() as repo:
        return await repo.delete_sessions_older_than(max_age_days)


async def sign_out(
    uow: UnitOfWork, person_id: uuid.UUID, token: str, sessions: SessionCache
) -> None:
    """End the session of ``token``: it stops working at once, in every booking process."""
    digest = token_digest(token)
    async with uow.read() as repo:
        await repo.end_session(digest, person_id)
    sessions.forget(digest)  # here at once, not only when the NOTIFY comes back


async def sign_out_everywhere(
    uow: UnitOfWork, person_id: uuid.UUID, sessions: SessionCache
) -> None:
    """End every session of the person (a lost phone): every token of theirs stops working."""
    async with uow.read() as repo:
        await repo.end_sessions_of(person_id)
    sessions.forget_person(person_id)


async def me(uow: UnitOfWork, person_id: uuid.UUID) -> dict[str, Any]:
    """The caller's own profile, address included (it is theirs)."""
    async with uow.read() as repo:
        person = await repo.person(person_id)
    if person is None:
        raise NotFound("no such person")
    return {
        "person_id": person["person_id"],
        "display_name": person["display_name"],
        "email": person["email"],
        "home": {
            "lat": person["lat"],
            "lng": person["lng"],
            "address": person["address"],
            "phone": person["phone"],
        },
        "neighbourhood": person["neighbourhood"],
        "time_zone": person["time_zone"],
        "skills": person["skills"],
        "travel_radius_km": person["travel_radius_km"],
        "weekly_hour_cap": person["weekly_hour_cap"],
        "languages": person["languages"],
        "accessibility_notes": person.get("accessibility_notes"),
        "suspended": person["suspended"],
    }


#: Profile fields that travel in ``PersonProfileChanged``; changing any of them publishes.
_PUBLIC = {"display_name", "skills", "travel_radius_km", "weekly_hour_cap", "languages", "cell"}


async def update_profile(uow: UnitOfWork, command: UpdateProfile) -> dict[str, Any]:
    """Change the caller's own profile; publish the public part when it changed.

    Moving home changes the neighbourhood and cell (derived here, never sent by the caller).
    """
    changes: Row = {
        name: getattr(command, name)
        for name in (
            "display_name",
            "languages",
            "accessibility_notes",
            "address",
            "phone",
            "time_zone",
            "travel_radius_km",
            "weekly_hour_cap",
        )
        if getattr(command, name) is not None
    }
    if command.skills is not None:
        changes["skills"] = [str(skill) for skill in command.skills]
    if (command.lat is None) != (command.lng is None):
        raise Invalid("home", "send lat and lng together")
    if command.lat is not None and command.lng is not None:
        changes["lat"], changes["lng"] = command.lat, command.lng
        changes["neighbourhood"] = geo.neighbourhood_of(command.lat, command.lng)
        changes["cell"] = geo.cell_of(command.lat, command.lng)
    async with uow.begin() as repo:
        person = await repo.person(command.person_id)
        if person is None:
            raise NotFound("no such person")
        changed = {key: value for key, value in changes.items() if person.get(key) != value}
        if changed:
            await repo.update_person(command.person_id, changed)
            if _PUBLIC & set(changed):
                event = profile_event({**person, **changed})
                await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return await me(uow, command.person_id)


async def set_availability(
    uow: UnitOfWork, command: SetAvailability, now: datetime
) -> dict[str, Any]:
    """Replace the weekly rules, expand them in the person's zone, publish the hours."""
    async with uow.begin() as repo:
        person = await repo.person(command.person_id)
        if person is None:
            raise NotFound("no such person")
        try:
            expansion = availability.expand(
                command.rules, person["time_zone"], now, exceptions=command.exceptions
            )
        except ValueError as error:
            raise Invalid("rules", str(error)) from error
        rules = [
            {"weekday": str(rule.weekday), "start_hour": rule.start_hour, "end_hour": rule.end_hour}
            for rule in command.rules
        ]
        exceptions = [_exception_row(item) for item in command.exceptions]
        await repo.set_availability(
            command.person_id,
            rules,
            expansion.horizon_start,
            expansion.horizon_end,
            expansion.hours,
            exceptions,
        )
        event = AvailabilityChanged(
            person_id=command.person_id,
            neighbourhood=person["neighbourhood"],
            horizon_start=expansion.horizon_start,
            horizon_end=expansion.horizon_end,
            free_hours=expansion.hours,
        )
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return _availability_view(
        rules, expansion.horizon_start, expansion.horizon_end, expansion.hours, exceptions
    )


def _exception_row(item: availability.DatedException) -> Row:
    if isinstance(item, availability.Away):
        return {
            "kind": "away",
            "first_day": item.first_day.isoformat(),
            "last_day": item.last_day.isoformat(),
        }
    return {
        "kind": "extra",
        "day": item.day.isoformat(),
        "start": f"{item.start_hour:02d}:00",
        "end": f"{item.end_hour:02d}:00",
    }


async def get_availability(uow: UnitOfWork, person_id: uuid.UUID) -> dict[str, Any]:
    """The caller's rules, dated exceptions and the hours they expand to."""
    async with uow.read() as repo:
        row = await repo.availability(person_id)
    if row is None:
        return _availability_view([], None, None, [], [])
    return _availability_view(
        row["rules"], row["horizon_start"], row["horizon_end"], row["hours"], row["exceptions"]
    )


def _availability_view(
    rules: list[Row],
    start: datetime | None,
    end: datetime | None,
    hours: list[datetime],
    exceptions: list[Row],
) -> dict[str, Any]:
    return {
        "exceptions": exceptions,
        "rules": [
            {
                "weekday": rule["weekday"],
                "start": f"{rule['start_hour']:02d}:00",
                "end": f"{rule['end_hour']:02d}:00",
            }
            for rule in rules
        ],
        "horizon_start": start,
        "horizon_end": end,
        "hours": hours,
    }
