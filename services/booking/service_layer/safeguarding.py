"""What a suspension does to visits already booked, and what reinstatement gives back.

Trust suspends a person at once when a concern is raised (``StandingChanged``). Booking then,
in the transaction that stores the standing:

* holds every confirmed visit of theirs that has not started: the booking is cancelled and
  marked ``held`` (operators keep seeing it on the flagged list), the helper's hours are
  freed, and the other side is told (a ``booking.cancelled`` notice);
* when the suspended person was the helper, asks for the visit again at once, so matching
  offers it to someone else (the neighbour hears of the new offers as usual); when they were
  the neighbour, the visit's request waits as ``held``;
* holds a suspended neighbour's open and unmatched requests (``held``; open offers of them
  are withdrawn and matching is told they are cancelled), so no helper is sent to them;
* withdraws a suspended helper's open offers;
* releases every series the suspended helper is the regular of (``series.changed``), so
  another helper offered its visits may take the whole series on. It is not a step-back:
  once reinstated, they may be offered it again and take it on anew.

Reinstatement gives back what it can: the neighbour's held requests that have not started
are asked for again (``request.reopened``). A held visit is not rebooked by itself: it stays
on the flagged list until an operator decides it (``flag_decisions``: call it off, ask for
it again, or keep it with the same two people once both are in good standing).

No reason that could tell anyone of a concern travels on a topic: a held visit's
``booking.cancelled`` says only that Kith called it off.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.booking.domain.visits import RequestStatus, visit_fields
from services.booking.service_layer.ports import Repository
from services.booking.service_layer.records import Row
from services.booking.service_layer.requests import help_requested
from services.booking.service_layer.series_events import series_changed
from shared.contracts import Envelope
from shared.contracts.bookings import BookingCancelled, Side
from shared.contracts.requests import HelpRequestCancelled

PRODUCER = "booking"
#: Said of a held visit, to both sides and on the bookings stream. Deliberately the same
#: whichever side was suspended, and silent on why.
HELD_REASON = "Kith called this visit off."
#: Requests that a suspension holds, and that matching may still be offering.
_WAITING = (RequestStatus.OPEN.value, RequestStatus.UNMATCHED.value)


async def standing_changed(
    repo: Repository, person_id: uuid.UUID, suspended: bool, was_suspended: bool, now: datetime
) -> None:
    """Apply a suspension or a reinstatement to the person's visits and requests.

    ``now`` is the present: a visit that has started is not held (it is the operators' to
    handle, from the flagged list), nor is a request for a time gone by reopened.
    """
    if suspended:
        await _hold(repo, person_id, now)
    elif was_suspended:
        await _restore(repo, person_id, now)


async def _hold(repo: Repository, person_id: uuid.UUID, now: datetime) -> None:
    events: list[Envelope[Any]] = []
    for booking in await repo.upcoming_confirmed(person_id, now):
        suspended_side = Side.HELPER if booking["helper_id"] == person_id else Side.NEIGHBOUR
        await repo.hold_booking(booking["booking_id"], suspended_side.value, HELD_REASON, now)
        events.append(_cancelled(booking, suspended_side))
        told = {"booking_id": str(booking["booking_id"]), "request_id": str(booking["request_id"])}
        if suspended_side is Side.HELPER:
            await repo.set_request_status(booking["request_id"], RequestStatus.OPEN)
            request = await repo.request(booking["request_id"])
            if request is not None:
                events.append(Envelope.wrap(help_requested(request), producer=PRODUCER))
            await repo.notify(booking["neighbour_id"], "booking.cancelled", told)
        else:
            await repo.set_request_status(booking["request_id"], RequestStatus.HELD)
            await repo.notify(booking["helper_id"], "booking.cancelled", told)
        await repo.notify(person_id, "booking.cancelled", told)
    waiting = await repo.requests_in_status(person_id, _WAITING, now)
    if waiting:
        ids = [row["request_id"] for row in waiting]
        await repo.set_requests_status(ids, RequestStatus.HELD)
        await repo.withdraw_offers(request_ids=ids)
        events += [
            Envelope.wrap(
                HelpRequestCancelled(
                    request_id=row["request_id"], neighbourhood=row["neighbourhood"]
                ),
                producer=PRODUCER,
            )
            for row in waiting
        ]
    await repo.withdraw_offers(helper_id=person_id)
    # After the visits and requests: their locks come before the series', as in an accept.
    events += [
        Envelope.wrap(series_changed(released), producer=PRODUCER)
        for released in await repo.release_regular(person_id)
    ]
    await repo.publish(events)


async def _restore(repo: Repository, person_id: uuid.UUID, now: datetime) -> None:
    held = await repo.requests_in_status(person_id, [RequestStatus.HELD.value], now)
    if held:
        await repo.set_requests_status([row["request_id"] for row in held], RequestStatus.OPEN)
        await repo.publish([Envelope.wrap(help_requested(row), producer=PRODUCER) for row in held])
        for row in held:
            await repo.notify(person_id, "request.reopened", {"request_id": str(row["request_id"])})


def _cancelled(booking: Row, side: Side) -> Envelope[BookingCancelled]:
    return Envelope.wrap(
        BookingCancelled(
            **visit_fields(booking),
            cancelled_by=side,
            # Not counted against anyone as a late cancellation: nobody chose it.
            late=False,
        ),
        producer=PRODUCER,
    )
