"""An accept books in one statement that locks the request and the offer, checks them, and
makes the booking and its event from what they say; when anything is in the way it writes
nothing, and the locking way says why."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from services.booking.adapters.offer_queries import CONFIRMED_DATA
from services.booking.domain.visits import BookingStatus, OfferStatus, RequestStatus
from shared import clock
from shared.contracts import decode, key_for
from shared.contracts.bookings import BookingConfirmed
from shared.contracts.codec import encode_around
from shared.contracts.topics import BOOKINGS
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import ask, future_hour, seed_offer, sign_up

#: A change made before the accept: given booking, the request and Ada.
Change = Callable[[Booking, str, str], Awaitable[None]]


async def _accept_at_once(
    booking: Booking, change: Change
) -> tuple[str, dict[str, str], dict[str, Any] | None, dict[str, Any]]:
    """An offer to Ada of a two-hour visit, ``change``, then her accept's one statement; her
    offer, her headers, the booking it returned, and what is stored."""
    _, neighbour = await sign_up(booking.client, "Nia")
    ada_id, ada = await sign_up(booking.client, "Ada")
    series = await ask(booking.client, neighbour, future_hour(days=9), 2)
    request_id = series["occurrences"][0]["request_id"]
    offer_id = await seed_offer(booking.runtime.uow, request_id, ada_id)

    await change(booking, request_id, ada_id)

    event = encode_around(BookingConfirmed, producer="booking")
    booking_id = uuid.uuid4()
    async with booking.runtime.uow.read() as repo:
        # Far from UTC: the event must say the hour as the codec does whatever the session's.
        await repo.conn.execute("SET timezone = 'Pacific/Auckland'")
        booked = await repo.book_open_offer(
            uuid.UUID(offer_id),
            uuid.UUID(ada_id),
            clock.now(),
            booking_id=booking_id,
            event=event,
            bookable=[RequestStatus.OPEN.value, RequestStatus.UNMATCHED.value],
            booking_status=BookingStatus.CONFIRMED.value,
            accepted=OfferStatus.ACCEPTED.value,
            withdrawn=OfferStatus.WITHDRAWN.value,
            request_status=RequestStatus.BOOKED.value,
        )
        outbox = await repo.conn.fetchrow(
            "SELECT topic, key, type, envelope FROM outbox WHERE event_id = $1", event.event_id
        )
        stored = {
            "ada_bookings": await repo.conn.fetchval(
                "SELECT count(*) FROM bookings WHERE offer_id = $1", uuid.UUID(offer_id)
            ),
            "event": None if outbox is None else dict(outbox),
            "hours": await repo.conn.fetchval(
                "SELECT array_agg(hour ORDER BY hour) FROM helper_hours WHERE booking_id = $1",
                booking_id,
            ),
            "offer": await repo.conn.fetchval(
                "SELECT status FROM offers WHERE offer_id = $1", uuid.UUID(offer_id)
            ),
            "request": await repo.conn.fetchval(
                "SELECT status FROM requests WHERE request_id = $1", uuid.UUID(request_id)
            ),
        }
        await repo.conn.execute("RESET timezone")
    return offer_id, ada, booked, stored


async def _nothing(booking: Booking, request_id: str, ada_id: str) -> None:
    return None


async def _bruno_books_first(booking: Booking, request_id: str, ada_id: str) -> None:
    bruno_id, bruno = await sign_up(booking.client, "Bruno")
    bruno_offer = await seed_offer(booking.runtime.uow, request_id, bruno_id)
    answer = await booking.client.post(f"/v1/offers/{bruno_offer}/accept", headers=bruno)
    assert answer.status_code == 201, answer.text


async def _suspended(booking: Booking, request_id: str, ada_id: str) -> None:
    # Only her standing, not the withdrawal of her offers that trust's event also makes: the
    # statement's own check is what is shown here.
    await _execute(
        booking,
        "INSERT INTO standing (person_id, suspended, as_of) VALUES ($1, true, now())"
        " ON CONFLICT (person_id) DO UPDATE SET suspended = true",
        ada_id,
    )


async def _held_for_review(booking: Booking, request_id: str, ada_id: str) -> None:
    await _execute(
        booking,
        "INSERT INTO reviews (person_id, review, opened_at) VALUES ($1, 'rejoin', now())",
        ada_id,
    )


async def _expired(booking: Booking, request_id: str, ada_id: str) -> None:
    await _execute(
        booking,
        "UPDATE offers SET expires_at = now() - interval '1 minute' WHERE helper_id = $1",
        ada_id,
    )


async def _cancelled(booking: Booking, request_id: str, ada_id: str) -> None:
    await _execute(
        booking, "UPDATE requests SET status = 'cancelled' WHERE request_id = $1", request_id
    )


async def _execute(booking: Booking, statement: str, person_or_request: str) -> None:
    async with booking.runtime.uow.begin() as repo:
        await repo.conn.execute(statement, uuid.UUID(person_or_request))


@pytest.mark.parametrize(
    ("change", "offer", "refusal"),
    [
        (_bruno_books_first, "withdrawn", "withdrawn"),
        (_suspended, "open", "paused"),
        (_held_for_review, "open", "paused"),
        (_expired, "open", "expired"),
        (_cancelled, "open", "cancelled"),
    ],
    ids=["another_helper_booked_the_visit", "suspended", "held_for_review", "expired", "cancelled"],
)
async def test_an_accept_with_anything_in_the_way_books_nothing(
    booking: Booking, change: Change, offer: str, refusal: str
) -> None:
    offer_id, ada, booked, stored = await _accept_at_once(booking, change)

    assert booked is None
    assert (stored["ada_bookings"], stored["event"], stored["hours"], stored["offer"]) == (
        0,
        None,
        None,
        offer,
    )
    answer = await booking.client.post(f"/v1/offers/{offer_id}/accept", headers=ada)
    assert answer.status_code == 409
    assert refusal in answer.json()["detail"]


async def test_an_accept_books_the_visit_and_writes_its_event_from_the_locked_rows(
    booking: Booking,
) -> None:
    _, _, booked, stored = await _accept_at_once(booking, _nothing)

    assert booked is not None
    assert (stored["ada_bookings"], stored["offer"], stored["request"]) == (
        1,
        "accepted",
        "booked",
    )
    starts_at = booked["starts_at"]
    assert stored["hours"] == [starts_at, starts_at + timedelta(hours=1)]
    # The event reads as any booking.confirmed, says what was booked, and travels as the
    # codec would have sent it.
    event = stored["event"]
    envelope = decode(bytes(event["envelope"]))
    expected = BookingConfirmed(
        **{field: booked[field] for field in CONFIRMED_DATA if field != "referred_by"},
        referred_by=None,
    )
    assert envelope.data == expected
    assert json.loads(bytes(event["envelope"]))["data"] == json.loads(expected.model_dump_json())
    assert (envelope.type, envelope.version, envelope.producer) == (
        "booking.confirmed",
        2,
        "booking",
    )
    assert (event["topic"], bytes(event["key"]), event["type"]) == (
        BOOKINGS.name,
        key_for(expected),
        "booking.confirmed",
    )


def test_the_statement_writes_every_field_of_the_event_and_no_other() -> None:
    assert set(CONFIRMED_DATA) == set(BookingConfirmed.model_fields)
