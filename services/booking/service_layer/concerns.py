"""Raising a concern, with the rules that keep it from being used as a weapon.

A concern suspends its subject at once (trust decides that), so the power is bounded:

* only about someone the raiser has a visit booked with, or had one with that started at most
  ``concern_window_days`` ago (an old booking is no licence for ever);
* at most ``concern_limit`` concerns per person in ``concern_limit_window_h`` (a 429 with
  ``Retry-After`` past that);
* operators see, beside each concern, how many its raiser has raised in all.

Operators and partners are not limited here: they answer for what they raise.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from services.booking.domain.errors import Conflict, Invalid, NotFound, TooMany
from services.booking.service_layer.ports import Repository, UnitOfWork
from shared.contracts import Envelope
from shared.contracts.trust import ConcernOutcome, ConcernRaised, ConcernResolved, RaisedBy
from shared.settings import Settings

PRODUCER = "booking"
#: A concern's status until an operator resolves it.
OPEN = "open"


async def raise_concern(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    about_id: uuid.UUID,
    booking_id: uuid.UUID | None,
    summary: str,
    now: datetime,
    settings: Settings,
) -> ConcernRaised:
    """A person raises a concern about someone they have or recently had a visit with.

    Raises:
        Invalid: The concern is about the raiser.
        NotFound: No such visit between them in the window (told apart from nothing else).
        TooMany: The raiser reached their limit; ``retry_after_s`` says for how long.
    """
    if about_id == person_id:
        raise Invalid("about_id", "a concern is about someone else")
    since = now - timedelta(days=settings.concern_window_days)
    period = timedelta(hours=settings.concern_limit_window_h)
    async with uow.begin() as repo:
        if not await repo.visit_since(person_id, about_id, booking_id, since):
            raise NotFound("no booked or recent visit with that person")
        # Lock, then count, then write: two concerns sent at once cannot both slip under it.
        await repo.lock_person(person_id)
        raised, oldest = await repo.concerns_raised_since(person_id, now - period)
        if raised >= settings.concern_limit and oldest is not None:
            wait = math.ceil((oldest + period - now).total_seconds())
            raise TooMany(
                f"you have raised {raised} concerns in the last"
                f" {settings.concern_limit_window_h} hours: an operator is looking into them;"
                " if someone is in danger now, call 999",
                max(wait, 1),
            )
        event = ConcernRaised(
            concern_id=uuid.uuid4(),
            about_id=about_id,
            raised_by_id=person_id,
            raised_by_role=RaisedBy.PERSON,
            booking_id=booking_id,
        )
        await record(repo, event, summary, now)
    return event


async def record(repo: Repository, event: ConcernRaised, summary: str, now: datetime) -> None:
    """Store a concern for operators and send it to trust, in the caller's transaction.

    The summary stays here, booking's record of the concern: the event tells trust only
    that there is a concern and about whom.

    Raises:
        NotFound: The person it is about deleted their account (nothing is kept about them).
    """
    if await repo.is_erased(event.about_id):
        raise NotFound("no such person")
    await repo.add_concern(
        {
            "concern_id": event.concern_id,
            "about_id": event.about_id,
            "raised_by_id": event.raised_by_id,
            "raised_by_role": event.raised_by_role.value,
            "booking_id": event.booking_id,
            "summary": summary,
            # The clock's present, not the database's: the limit compares with it.
            "raised_at": now,
        }
    )
    await repo.publish([Envelope.wrap(event, producer=PRODUCER)])


async def raise_for_operator(
    uow: UnitOfWork,
    about_id: uuid.UUID,
    booking_id: uuid.UUID | None,
    summary: str,
    now: datetime,
) -> ConcernRaised:
    """An operator raises a concern about a person (their own, or one reported to them).

    Raises:
        NotFound: No such person, or ``booking_id`` is not one of theirs.
    """
    async with uow.begin() as repo:
        if await repo.person(about_id) is None:
            raise NotFound("no such person")
        if booking_id is not None:
            booking = await repo.booking(booking_id)
            if booking is None or about_id not in (booking["helper_id"], booking["neighbour_id"]):
                raise NotFound("no such booking of that person")
        event = ConcernRaised(
            concern_id=uuid.uuid4(),
            about_id=about_id,
            raised_by_role=RaisedBy.OPERATOR,
            booking_id=booking_id,
        )
        await record(repo, event, summary, now)
    return event


async def resolve(
    uow: UnitOfWork,
    concern_id: uuid.UUID,
    outcome: ConcernOutcome,
    reason: str,
    now: datetime,
    by: str = "operator",
) -> ConcernResolved:
    """An operator reinstates the person a concern is about, or removes them; trust acts on
    the event. The reason stays here: the event carries only the outcome; ``by`` names the
    operator (``operator:<name>``).

    Raises:
        NotFound: No such concern.
        Conflict: It is already resolved.
    """
    async with uow.begin() as repo:
        concern = await repo.concern_to_resolve(concern_id)
        if concern is None:
            raise NotFound("no such concern")
        if concern["status"] != OPEN:
            raise Conflict("the concern is already resolved")
        event = ConcernResolved(
            concern_id=concern_id,
            about_id=concern["about_id"],
            outcome=outcome,
            resolved_by=by,
        )
        await repo.resolve_concern(
            concern_id,
            outcome=outcome.value,
            reason=reason,
            resolved_by=event.resolved_by,
            resolved_at=now,
        )
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return event


async def listed(uow: UnitOfWork, status: str, limit: int, offset: int) -> list[dict[str, Any]]:
    """Operators: concerns in a status, oldest first, with how many each raiser raised
    (``limit`` rows from ``offset``) and the names of the people each is about and was
    raised by (operators see names, not ids)."""
    async with uow.read() as repo:
        rows = await repo.concerns_in_status(status, limit, offset)
        names = await repo.display_names(
            [row[key] for row in rows for key in ("about_id", "raised_by_id") if row[key]]
        )
    for row in rows:
        row["about_name"] = names.get(row["about_id"])
        row["raised_by_name"] = names.get(row["raised_by_id"]) if row["raised_by_id"] else None
    return rows
