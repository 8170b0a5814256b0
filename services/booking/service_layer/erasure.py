"""Deleting an account, by its owner or by an operator on their behalf.

In one transaction booking calls off what the person had coming (the other side of each
visit is told), empties every row of theirs, rewrites its kept events without their name or
texts, keeps a record of the erasure (when, by whom, why: nothing personal), and, when the person
is suspended or held for review at the time, keyed hashes of their email and phone, so that
deleting an account is no way round a suspension (``domain.rejoining``). It publishes
``PersonErased``: trust, matching and the partners gateway erase what they hold when it
reaches them, and partners that read the people stream are told to erase theirs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.booking.domain.credentials import Passwords
from services.booking.domain.erasure import ErasedBy
from services.booking.domain.errors import Conflict, Forbidden, NotFound
from services.booking.domain.partners import PersonKind
from services.booking.domain.rejoining import HELD_FOR_REVIEW, SUSPENDED, person_digests
from services.booking.domain.visits import BookingStatus, OfferStatus, RequestStatus, visit_fields
from services.booking.service_layer.ports import Repository, Sessions, UnitOfWork
from services.booking.service_layer.records import Row
from services.booking.service_layer.requests import help_requested
from shared.contracts import Envelope
from shared.contracts.bookings import BookingCancelled, OfferDeclined, Side
from shared.contracts.people import PersonErased
from shared.contracts.redaction import redacted
from shared.contracts.requests import HelpRequestCancelled

PRODUCER = "booking"
#: Why a visit was called off, as the other side reads it.
CANCEL_REASON = "The other person's account was deleted."


async def erase_own_account(
    uow: UnitOfWork,
    passwords: Passwords,
    person_id: uuid.UUID,
    password: str,
    sessions: Sessions,
    *,
    now: datetime,
    contact_key: bytes,
) -> dict[str, Any]:
    """The signed-in person deletes their account, confirming it with their password (checked
    with no transaction open: it takes tens of milliseconds)."""
    async with uow.read() as repo:
        person = await repo.person(person_id)
    if person is None or person["password_hash"] is None:
        raise NotFound("no such person")
    if not (await passwords.check(password, person["password_hash"])).matches:
        raise Forbidden("password: that is not your password; the account was not deleted")
    return await erase(uow, person_id, sessions, now=now, by=ErasedBy.SELF, contact_key=contact_key)


async def erase(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    sessions: Sessions,
    *,
    now: datetime,
    by: ErasedBy,
    contact_key: bytes,
    operator: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Erase a person everywhere booking keeps them; return the record of the erasure.

    ``operator`` and ``reason`` say which operator did it and why (for ``ErasedBy.OPERATOR``).
    ``contact_key`` keys the hashes kept of a suspended person's email and phone.
    Erasing someone already erased changes nothing and returns the first record.

    Raises:
        NotFound: No such person.
        Conflict: The person is a partner's service (it goes with its partner).
    """
    async with uow.begin() as repo:
        person = await repo.person_to_erase(person_id)
        if person is None:
            raise NotFound("no such person")
        if person["kind"] == PersonKind.ERASED:
            record = await repo.erasure(person_id)
            assert record is not None  # written in the transaction that erased the row
            return _record_view(record)
        if person["kind"] == PersonKind.PARTNER_SERVICE:
            raise Conflict("a partner's service is removed by deregistering its partner")
        standing = await _standing_at_erasure(repo, person_id)
        # Before anything new is written: the kept events lose the person's name and texts.
        await repo.redact_outbox(person_id, redacted)
        await repo.erase_personal_rows(person_id)
        events: list[Envelope[Any]] = []
        events += await _call_off_visits(repo, person_id, now)
        events += await _withdraw_requests(repo, person_id)
        events += await _decline_offers(repo, person_id, now)
        record = await repo.record_erasure(person_id, now, by.value, operator, reason)
        if standing is not None:
            digests = person_digests(contact_key, person)
            await repo.keep_erased_contacts(person_id, digests, standing, now)
        if person["neighbourhood"] is not None:
            erased = PersonErased(person_id=person_id, neighbourhood=person["neighbourhood"])
            events.append(Envelope.wrap(erased, producer=PRODUCER))
        await repo.publish(events)
    sessions.forget_person(person_id)  # here at once, not only when the NOTIFY comes back
    return _record_view(record)


async def _standing_at_erasure(repo: Repository, person_id: uuid.UUID) -> str | None:
    """Why a sign-up with the person's contacts must be reviewed, or None (in good standing:
    they may come back freely). Trust's removal is a suspension for good."""
    if (await repo.standing(person_id))["suspended"]:
        return SUSPENDED
    if await repo.is_held_for_review(person_id):
        return HELD_FOR_REVIEW
    return None


async def _call_off_visits(
    repo: Repository, person_id: uuid.UUID, now: datetime
) -> list[Envelope[Any]]:
    """Cancel the person's upcoming visits, as ``bookings.cancel`` would, telling the other
    side; a neighbour whose helper left is asked for again, so someone else may come."""
    events: list[Envelope[Any]] = []
    for row in await repo.upcoming_bookings_to_cancel(person_id, now):
        side = Side.HELPER if row["helper_id"] == person_id else Side.NEIGHBOUR
        other = row["neighbour_id"] if side is Side.HELPER else row["helper_id"]
        await repo.update_booking(
            row["booking_id"],
            status=BookingStatus.CANCELLED.value,
            cancelled_at=now,
            cancelled_by=side.value,
            cancel_reason=CANCEL_REASON,
            # Not a late cancellation: nobody is marked for leaving Kith.
            late_cancel=False,
        )
        await repo.free_helper_hours(row["booking_id"])
        events.append(
            Envelope.wrap(
                BookingCancelled(**visit_fields(row), cancelled_by=side, late=False),
                producer=PRODUCER,
            )
        )
        if side is Side.NEIGHBOUR:
            await repo.set_request_status(row["request_id"], RequestStatus.CANCELLED)
        else:
            await repo.set_request_status(row["request_id"], RequestStatus.OPEN)
            request = await repo.request(row["request_id"])
            if request is not None:
                events.append(Envelope.wrap(help_requested(request), producer=PRODUCER))
        await repo.notify(other, "booking.cancelled", {"booking_id": str(row["booking_id"])})
    return events


async def _withdraw_requests(repo: Repository, person_id: uuid.UUID) -> list[Envelope[Any]]:
    """Cancel the person's requests nobody has booked; their open offers lapse."""
    events: list[Envelope[Any]] = []
    for row in await repo.open_requests_to_cancel(person_id):
        await repo.set_request_status(row["request_id"], RequestStatus.CANCELLED)
        await repo.withdraw_open_offers(row["request_id"])
        cancelled = HelpRequestCancelled(
            request_id=row["request_id"], neighbourhood=row["neighbourhood"]
        )
        events.append(Envelope.wrap(cancelled, producer=PRODUCER))
    return events


async def _decline_offers(
    repo: Repository, person_id: uuid.UUID, now: datetime
) -> list[Envelope[Any]]:
    """Decline the offers waiting for the person, so matching asks someone else at once."""
    events: list[Envelope[Any]] = []
    for offer in await repo.open_offers_to_decline(person_id, now):
        await repo.set_offer_status(offer["offer_id"], OfferStatus.DECLINED)
        declined = OfferDeclined(
            offer_id=offer["offer_id"],
            request_id=offer["request_id"],
            helper_id=person_id,
            neighbourhood=offer["neighbourhood"],
        )
        events.append(Envelope.wrap(declined, producer=PRODUCER))
    return events


def _record_view(record: Row) -> dict[str, Any]:
    return {
        "person_id": record["person_id"],
        "status": "erased",
        "erased_at": record["erased_at"],
        "erased_by": record["erased_by"],
        "operator": record["operator"],
        "reason": record["reason"],
    }
