"""An accept books in one statement from an unlocked read, and only if that read still holds
once the statement has locked the request and the offer; otherwise it writes nothing and the
locking way says why."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from services.booking.domain.visits import OfferStatus, RequestStatus
from services.booking.service_layer.offers import booking_of
from shared import clock
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import ask, future_hour, seed_offer, sign_up

#: A change made between the read and the statement: given booking, the request and Ada.
Change = Callable[[Booking, str, str], Awaitable[None]]


async def _stale_accept(
    booking: Booking, change: Change
) -> tuple[str, dict[str, str], bool, dict[str, Any]]:
    """Read an offer to Ada, make ``change``, then book from the read; Ada's offer, her
    headers, whether it booked, and what is stored."""
    _, neighbour = await sign_up(booking.client, "Nia")
    ada_id, ada = await sign_up(booking.client, "Ada")
    series = await ask(booking.client, neighbour, future_hour(days=9), 2)
    request_id = series["occurrences"][0]["request_id"]
    offer_id = await seed_offer(booking.runtime.uow, request_id, ada_id)
    uow = booking.runtime.uow
    async with uow.read() as repo:
        read = await repo.read_for_accept(uuid.UUID(offer_id))
    assert read is not None
    assert read["status"] == "open"

    await change(booking, request_id, ada_id)

    made, held, envelope = booking_of(read, uuid.UUID(ada_id))
    async with uow.read() as repo:
        booked = await repo.book_as_read(
            made,
            held,
            OfferStatus.ACCEPTED.value,
            OfferStatus.WITHDRAWN.value,
            RequestStatus.BOOKED.value,
            envelope=envelope,
            read=read,
            now=clock.now(),
            bookable=[RequestStatus.OPEN.value, RequestStatus.UNMATCHED.value],
        )
        stored = {
            "ada_bookings": await repo.conn.fetchval(
                "SELECT count(*) FROM bookings WHERE offer_id = $1", uuid.UUID(offer_id)
            ),
            "event": await repo.conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_id = $1", envelope.event_id
            ),
            "hours": await repo.conn.fetchval(
                "SELECT count(*) FROM helper_hours WHERE booking_id = $1", made["booking_id"]
            ),
            "offer": await repo.conn.fetchval(
                "SELECT status FROM offers WHERE offer_id = $1", uuid.UUID(offer_id)
            ),
        }
    return offer_id, ada, booked, stored


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


async def _moved(booking: Booking, request_id: str, ada_id: str) -> None:
    """The event is made from the read: a request whose time changed since must not be
    booked at the old time."""
    await _execute(
        booking,
        "UPDATE requests SET starts_at = starts_at + interval '1 hour' WHERE request_id = $1",
        request_id,
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
        (_moved, "open", None),
    ],
    ids=["another_helper_booked_the_visit", "suspended", "held_for_review", "request_moved"],
)
async def test_an_accept_read_before_a_change_books_nothing(
    booking: Booking, change: Change, offer: str, refusal: str | None
) -> None:
    offer_id, ada, booked, stored = await _stale_accept(booking, change)

    assert booked is False
    assert stored == {"ada_bookings": 0, "event": 0, "hours": 0, "offer": offer}
    if refusal is not None:
        answer = await booking.client.post(f"/v1/offers/{offer_id}/accept", headers=ada)
        assert answer.status_code == 409
        assert refusal in answer.json()["detail"]


async def test_an_accept_read_that_still_holds_books_the_visit_with_its_event(
    booking: Booking,
) -> None:
    async def nothing(booking: Booking, request_id: str, ada_id: str) -> None:
        return None

    _, _, booked, stored = await _stale_accept(booking, nothing)

    assert booked is True
    assert stored == {"ada_bookings": 1, "event": 1, "hours": 2, "offer": "accepted"}
