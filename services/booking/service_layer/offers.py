"""A helper's offers: the inbox, accepting (booking) and declining."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.booking.domain.errors import Conflict, HoursTaken, NotFound
from services.booking.domain.visits import (
    BookingStatus,
    OfferStatus,
    RequestStatus,
    booked_hours,
    effective_offer_status,
    visit_fields,
)
from services.booking.service_layer import series
from services.booking.service_layer.ports import UnitOfWork
from services.booking.service_layer.records import Row
from shared.contracts import Envelope
from shared.contracts.bookings import BookingConfirmed, OfferDeclined
from shared.contracts.codec import encode_around

PRODUCER = "booking"
_BOOKABLE = {RequestStatus.OPEN, RequestStatus.UNMATCHED}


def offer_view(row: Row, now: datetime) -> dict[str, Any]:
    """What a helper sees of an offer: the neighbour's display name, never their address."""
    return {
        "offer_id": row["offer_id"],
        "request_id": row["request_id"],
        "skill": row["skill"],
        "starts_at": row["starts_at"],
        "hours": row["hours"],
        "status": effective_offer_status(row["status"], row["expires_at"], now),
        "expires_at": row["expires_at"],
        "reasons": row["reasons"],
        "round": row["round"],
        "neighbour": {"display_name": row.get("neighbour_name")},
        # A repeating request's occurrence may be taken on as a whole series (``week`` or
        # ``fortnight``); ``None`` for a visit asked for once.
        "repeats": row.get("repeats"),
    }


async def inbox(
    uow: UnitOfWork, helper_id: uuid.UUID, now: datetime, limit: int, offset: int
) -> dict[str, Any]:
    """A page of the helper's offers, open ones first."""
    async with uow.read() as repo:
        rows = await repo.offers_of(helper_id, now, limit + 1, offset)
    items = [offer_view(row, now) for row in rows[:limit]]
    return {"items": items, "next_offset": offset + limit if len(rows) > limit else None}


async def accept(
    uow: UnitOfWork,
    helper_id: uuid.UUID,
    offer_id: uuid.UUID,
    now: datetime,
    *,
    whole_series: bool = False,
) -> dict[str, Any]:
    """Book the visit: the first helper to accept wins, and no helper is double-booked.

    With ``whole_series`` the helper also takes the rest of the occurrence's series on, in
    the same transaction (``series.take_on``): they become its regular, and its later
    occurrences are booked with them where they are free.

    An accept that is going to succeed, the common case, takes one statement and no
    transaction (``_book_at_once``). Any other (a taken visit, a paused helper, an offer
    that changed, a whole series) goes the locking way, in ONE transaction of two
    statements, in the order lock, check, write:

    * lock the request row (``FOR UPDATE``) first, so accepts of different offers of one
      request take turns; always request before offer, or two accepts that each hold an
      offer and withdraw the other's would deadlock. The same statement then locks the
      offer row, so two accepts of the same offer queue up and the second sees the first
      one's result instead of a stale "open", and reads the helper's suspension;
    * check the offer is the caller's, open and unexpired, the helper not suspended, and the
      request still bookable;
    * write, in one statement, the booking and one row per helper-hour. The checks above are
      a courtesy: the unique indexes are what guarantee one active booking per request and
      no two bookings of one helper in the same hour, even for accepts of *different*
      requests racing in separate transactions. The adapter turns their refusal into
      ``HoursTaken`` or ``AlreadyBooked``, which roll everything back and are a 409. The
      same statement marks the offer accepted, the request's other offers withdrawn, the
      request booked, and writes ``BookingConfirmed`` to the outbox, all committed together.
    """
    try:
        if not whole_series:
            booked = await _book_at_once(uow, helper_id, offer_id, now)
            if booked is not None:
                return _answer(booked, None)
        async with uow.begin() as repo:
            offer = await repo.lock_for_accept(offer_id)
            if offer is None or offer["helper_id"] != helper_id:
                raise NotFound("no such offer")
            # First, as a suspension also withdraws the helper's offers: say why.
            if offer["suspended"]:
                raise Conflict("your account is paused: you cannot accept offers at present")
            status = effective_offer_status(offer["status"], offer["expires_at"], now)
            if status is OfferStatus.EXPIRED:
                raise Conflict("this offer has expired")
            if status is not OfferStatus.OPEN:
                raise Conflict(f"this offer is {status}: it can no longer be accepted")
            if offer["r_status"] not in _BOOKABLE:
                raise Conflict("this visit has already been taken or cancelled")
            booking, held, envelope = booking_of(offer, helper_id)
            await repo.book(booking, held, *_ACCEPTED, envelope=envelope)
            taken_on = (
                await series.take_on(
                    repo,
                    helper_id,
                    {
                        "series_id": offer["r_series_id"],
                        "occurrence": offer["r_occurrence"],
                        "skill": booking["skill"],
                        "starts_at": booking["starts_at"],
                        "hours": booking["hours"],
                    },
                    now,
                )
                if whole_series
                else None
            )
    except HoursTaken as error:
        raise Conflict("this visit overlaps another booking of yours") from error
    return _answer(booking, taken_on)


#: What an accept sets: the offer's status, its request's other open offers', the request's.
_ACCEPTED = (OfferStatus.ACCEPTED.value, OfferStatus.WITHDRAWN.value, RequestStatus.BOOKED.value)


async def _book_at_once(
    uow: UnitOfWork, helper_id: uuid.UUID, offer_id: uuid.UUID, now: datetime
) -> Row | None:
    """Book an open offer in one statement that checks, once it has locked them, that the
    offer and its request can be booked, and makes the booking and its event from them; the
    booking, or None when anything was in the way (the locking way decides then, and says
    what).

    One round trip and no transaction: the request and the offer are locked only while the
    one statement runs, and nothing is read before it that could have changed.
    """
    async with uow.read() as repo:
        return await repo.book_open_offer(
            offer_id,
            helper_id,
            now,
            *_ACCEPTED,
            booking_id=uuid.uuid4(),
            event=encode_around(BookingConfirmed, producer=PRODUCER),
            bookable=[status.value for status in _BOOKABLE],
            booking_status=BookingStatus.CONFIRMED.value,
        )


def booking_of(offer: Row, helper_id: uuid.UUID) -> tuple[Row, list[datetime], Envelope[Any]]:
    """The booking an accept of ``offer`` (``lock_for_accept``'s row) makes, the hours it
    holds of the helper, and its ``BookingConfirmed``."""
    booking: Row = {
        "booking_id": uuid.uuid4(),
        "request_id": offer["request_id"],
        "offer_id": offer["offer_id"],
        "helper_id": helper_id,
        "neighbour_id": offer["neighbour_id"],
        "neighbourhood": offer["r_neighbourhood"],
        "skill": offer["r_skill"],
        "starts_at": offer["r_starts_at"],
        "hours": offer["r_hours"],
        "status": BookingStatus.CONFIRMED.value,
    }
    event = BookingConfirmed(
        **visit_fields(booking), offer_id=offer["offer_id"], referred_by=offer["referred_by"]
    )
    # A partner's service (a lift service with several drivers, say) answers many visits at
    # once under one identity: its hours are not one person's to hold.
    held = [] if offer["partner_service"] else booked_hours(booking["starts_at"], booking["hours"])
    return booking, held, Envelope.wrap(event, producer=PRODUCER)


def _answer(booking: Row, taken_on: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "booking_id": booking["booking_id"],
        "request_id": booking["request_id"],
        "offer_id": booking["offer_id"],
        "skill": booking["skill"],
        "starts_at": booking["starts_at"],
        "hours": booking["hours"],
        "status": booking["status"],
        "series": taken_on,
    }


async def decline(
    uow: UnitOfWork, helper_id: uuid.UUID, offer_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """Say no to an open offer; matching widens the search."""
    async with uow.begin() as repo:
        offer = await repo.offer(offer_id, lock=True)
        if offer is None or offer["helper_id"] != helper_id:
            raise NotFound("no such offer")
        status = effective_offer_status(offer["status"], offer["expires_at"], now)
        if status is OfferStatus.DECLINED:
            return {"offer_id": offer_id, "status": status}
        if status is not OfferStatus.OPEN:
            raise Conflict(f"this offer is {status}: there is nothing to decline")
        await repo.set_offer_status(offer_id, OfferStatus.DECLINED)
        event = OfferDeclined(
            offer_id=offer_id,
            request_id=offer["request_id"],
            helper_id=helper_id,
            neighbourhood=offer["neighbourhood"],
        )
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return {"offer_id": offer_id, "status": OfferStatus.DECLINED}
