"""Signing up and in, authenticating, profiles and availability."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from services.booking.domain import availability
from services.booking.domain.credentials import Passwords, new_token, token_digest
from services.booking.domain.errors import Conflict, Invalid, NotFound, Unauthorized
from services.booking.domain.languages import language_codes
from services.booking.domain.rejoining import REVIEW, person_digests
from services.booking.service_layer.account_links import add_link
from services.booking.service_layer.commands import SetAvailability, SignUp, UpdateProfile
from services.booking.service_layer.ports import Repository, Sessions, UnitOfWork
from services.booking.service_layer.records import Row
from shared import geo
from shared.contracts import Envelope, utc_now
from shared.contracts.people import (
    AvailabilityChangedV2,
    AwayDays,
    ExtraDay,
    LinkPurpose,
    PersonProfileChanged,
    WeeklySpan,
)

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
        languages=language_codes(person["languages"]),
    )


def new_person(command: SignUp) -> Row:
    """The row of a new member: cells derived here from the home, never sent by the caller."""
    return {
        "person_id": uuid.uuid4(),
        "email": command.email,
        "sign_in_phone": command.sign_in_phone,
        "display_name": command.display_name,
        "password_hash": command.password_hash,
        "lat": command.lat,
        "lng": command.lng,
        "address": command.address,
        # A phone-only account is texted on the number it signed up with.
        "phone": command.phone or command.sign_in_phone,
        "neighbourhood": geo.neighbourhood_of(command.lat, command.lng),
        "cell": geo.cell_of(command.lat, command.lng),
        "time_zone": command.time_zone,
        "skills": [str(skill) for skill in command.skills],
        "travel_radius_km": command.travel_radius_km,
        "weekly_hour_cap": command.weekly_hour_cap,
        "languages": command.languages,
    }


async def add_member(repo: Repository, person: Row, contact_key: bytes, now: datetime) -> None:
    """Insert a new member and publish their public profile, in the caller's transaction.

    An email or phone whose hash (under ``contact_key``) was kept when someone suspended was
    erased holds the new account for an operator's review. Nobody is told either way: a
    sign-up never tells anyone about another person's standing.

    Raises:
        Conflict: the email or the sign-in phone belongs to another account.
    """
    if not await repo.add_person(person):
        taken = "phone number" if await repo.sign_in_phone_taken(person) else "email"
        raise Conflict(f"an account with this {taken} exists")
    if await repo.matches_erased_contact(person_digests(contact_key, person)):
        await repo.open_review(person["person_id"], REVIEW, now)
    await repo.publish([Envelope.wrap(profile_event(person), producer=PRODUCER)])


async def sign_up(
    uow: UnitOfWork, command: SignUp, contact_key: bytes, verification_ttl_s: int = 3 * 24 * 3600
) -> tuple[uuid.UUID, str]:
    """Create an account and a first token; publish the public profile (``add_member``).

    An account with an email is sent a link to verify it; one with a phone only is not (a
    text message reaching them is proof enough that the number is theirs to read).
    """
    person = new_person(command)
    token = new_token()
    async with uow.begin() as repo:
        await add_member(repo, person, contact_key, utc_now())
        await repo.add_session(token_digest(token), person["person_id"])
        if command.email is not None:
            # A new account is sent a link to verify its email, in the same transaction.
            await add_link(
                repo,
                person["person_id"],
                command.email,
                LinkPurpose.VERIFY_EMAIL,
                utc_now(),
                verification_ttl_s,
            )
    return person["person_id"], token


async def check_password(
    uow: UnitOfWork,
    passwords: Passwords,
    email: str | None,
    password: str,
    phone: str | None = None,
) -> uuid.UUID:
    """The person whose email (or, without one, sign-in phone) and password these are;
    ``Unauthorized`` otherwise.

    The hash is checked with no transaction open (it takes tens of milliseconds), and an
    unknown email or phone costs the same check as a wrong password. A hash made with older
    parameters is replaced, unless it changed meanwhile.
    """
    async with uow.read() as repo:
        if email is not None:
            person = await repo.person_by_email(email)
        else:
            person = await repo.person_by_phone(phone) if phone else None
    stored = person.get("password_hash") if person is not None else None
    checked = await passwords.check(password, stored)
    if person is None or not checked.matches:
        raise Unauthorized("wrong email, phone number or password")
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
    uow: UnitOfWork, token: str, sessions: Sessions, max_age_days: int
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


async def sign_out(uow: UnitOfWork, person_id: uuid.UUID, token: str, sessions: Sessions) -> None:
    """End the session of ``token``: it stops working at once, in every booking process."""
    digest = token_digest(token)
    async with uow.read() as repo:
        await repo.end_session(digest, person_id)
    sessions.forget(digest)  # here at once, not only when the NOTIFY comes back


async def sign_out_everywhere(uow: UnitOfWork, person_id: uuid.UUID, sessions: Sessions) -> None:
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
        "phone": person.get("sign_in_phone"),
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
        "email_verified": person.get("email_verified_at") is not None,
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
        if person is None or person.get("kind") == "erased":
            # An erased account keeps its row (ids stay referenced) with nothing to correct.
            raise NotFound("no such person")
        changed = {key: value for key, value in changes.items() if person.get(key) != value}
        if changed:
            await repo.update_person(command.person_id, changed)
            if _PUBLIC & set(changed):
                event = profile_event({**person, **changed})
                await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
            if {"time_zone", "neighbourhood"} & set(changed):
                # The weekly rules mean other UTC hours in another zone, and a move takes
                # them to another neighbourhood's partition: say them again.
                saved = await repo.availability(command.person_id)
                if saved is not None:
                    moved = {**person, **changed}
                    weekly = weekly_hours(moved["time_zone"], saved["rules"], saved["exceptions"])
                    again = availability_event(moved, weekly)
                    await repo.publish([Envelope.wrap(again, producer=PRODUCER)])
    return await me(uow, command.person_id)


async def set_availability(
    uow: UnitOfWork, command: SetAvailability, now: datetime
) -> dict[str, Any]:
    """Replace the weekly rules and dated exceptions; publish them whole.

    The rules are published as rules (``AvailabilityChangedV2``), valid until the person
    changes them: matching works out any date's free hours from them, so nothing runs out
    at a horizon. The expansion stored and shown is a preview of the next days.
    """
    async with uow.begin() as repo:
        person = await repo.person(command.person_id)
        if person is None:
            raise NotFound("no such person")
        weekly = availability.WeeklyHours(
            time_zone=person["time_zone"],
            rules=tuple(command.rules),
            away=tuple(i for i in command.exceptions if isinstance(i, availability.Away)),
            extra=tuple(i for i in command.exceptions if isinstance(i, availability.ExtraHours)),
        )
        try:
            expansion = weekly.expand(now)
        except ValueError as error:
            raise Invalid("rules", str(error)) from error
        rules = [_rule_row(rule) for rule in command.rules]
        exceptions = [_exception_row(item) for item in command.exceptions]
        await repo.set_availability(
            command.person_id,
            rules,
            expansion.horizon_start,
            expansion.horizon_end,
            expansion.hours,
            exceptions,
        )
        event = availability_event(person, weekly)
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return _availability_view(
        rules, expansion.horizon_start, expansion.horizon_end, expansion.hours, exceptions
    )


def availability_event(person: Row, weekly: availability.WeeklyHours) -> AvailabilityChangedV2:
    """A person's weekly hours as published: rules in their zone, no horizon."""
    return AvailabilityChangedV2(
        person_id=person["person_id"],
        neighbourhood=person["neighbourhood"],
        time_zone=weekly.time_zone,
        rules=[
            WeeklySpan(weekday=r.weekday, start_hour=r.start_hour, end_hour=r.end_hour)
            for r in weekly.rules
        ],
        away=[AwayDays(first_day=a.first_day, last_day=a.last_day) for a in weekly.away],
        extra=[
            ExtraDay(day=e.day, start_hour=e.start_hour, end_hour=e.end_hour) for e in weekly.extra
        ],
    )


def weekly_hours(
    time_zone: str, rules: list[Row], exceptions: list[Row]
) -> availability.WeeklyHours:
    """Stored rules and exceptions (as ``set_availability`` writes them) as weekly hours."""
    away: list[availability.Away] = []
    extra: list[availability.ExtraHours] = []
    for item in exceptions:
        if item["kind"] == "away":
            away.append(
                availability.Away(
                    date.fromisoformat(item["first_day"]), date.fromisoformat(item["last_day"])
                )
            )
        else:
            extra.append(
                availability.ExtraHours(
                    date.fromisoformat(item["day"]), int(item["start"][:2]), int(item["end"][:2])
                )
            )
    return availability.WeeklyHours(
        time_zone=time_zone,
        rules=tuple(
            availability.WeeklyRule(
                availability.Weekday(rule["weekday"]), rule["start_hour"], rule["end_hour"]
            )
            for rule in rules
        ),
        away=tuple(away),
        extra=tuple(extra),
    )


def _rule_row(rule: availability.WeeklyRule) -> Row:
    return {"weekday": str(rule.weekday), "start_hour": rule.start_hour, "end_hour": rule.end_hour}


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


async def get_availability(uow: UnitOfWork, person_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The caller's rules, dated exceptions and the free hours of the next days from ``now``."""
    async with uow.read() as repo:
        person = await repo.person(person_id)
        row = await repo.availability(person_id)
    if row is None or person is None:
        return _availability_view([], None, None, [], [])
    weekly = weekly_hours(person["time_zone"], row["rules"], row["exceptions"])
    expansion = weekly.expand(now)
    return _availability_view(
        row["rules"],
        expansion.horizon_start,
        expansion.horizon_end,
        expansion.hours,
        row["exceptions"],
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
