"""Operators decide each visit a suspension held: call it off, ask for it again, or keep it.

Each decision runs in one transaction that locks the booking, then its request (the order a
suspension's hold takes), reads both people's standing under a shared lock, asks the domain
whether the decision stands, and writes the change, its events and the notices together.

What each tells, by topic and by notice (never a reason: the operator's reason stays on the
audit trail, and nothing anyone is told hints at a concern):

* **cancel** closes the request if it still waits for a helper (``help.request_cancelled``
  when matching may still be offering it) and sends ``booking.cancelled`` notices to both
  sides: it will not happen;
* **reoffer** asks for the request again when matching is not already offering it
  (``help.requested``) and sends the neighbour ``request.reopened``;
* **keep** confirms the same booking again (``booking.kept``, which every reader of
  ``booking.confirmed`` reads as one) and sends both sides ``booking.kept``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.booking.domain.errors import AlreadyBooked, Conflict, HoursTaken, NotFound
from services.booking.domain.flag_decisions import FlagDecision, FlaggedVisit, refusal
from services.booking.domain.partners import PersonKind
from services.booking.domain.visits import RequestStatus, booked_hours, visit_fields
from services.booking.service_layer.ports import Repository, UnitOfWork
from services.booking.service_layer.records import Row
from services.booking.service_layer.requests import help_requested
from shared.contracts import Envelope
from shared.contracts.bookings import BookingKept
from shared.contracts.requests import HelpRequestCancelled

PRODUCER = "booking"
#: Requests matching may be offering now: closing one tells matching, asking again does not.
_OFFERED = frozenset({RequestStatus.OPEN, RequestStatus.UNMATCHED})


async def flagged_visits(uow: UnitOfWork, limit: int, offset: int) -> list[dict[str, Any]]:
    """Operators: visits a suspension held that wait for a decision, soonest first, with both
    people's names, whether each is suspended now, and their request's status now."""
    async with uow.read() as repo:
        return await repo.flagged_visits(limit, offset)


async def decide(
    uow: UnitOfWork, booking_id: uuid.UUID, decision: FlagDecision, now: datetime
) -> dict[str, Any]:
    """Take ``decision`` on a flagged visit; a ``Conflict`` (409) says why it cannot be."""
    try:
        async with uow.begin() as repo:
            booking = await repo.booking(booking_id, lock=True)
            if booking is None:
                raise NotFound("no such booking")
            if not booking["flagged"]:
                raise Conflict("this visit is not on the flagged list: it was decided already")
            request = await repo.request(booking["request_id"], lock=True)
            assert request is not None  # a booking's request is never deleted
            suspended = await repo.suspended_of([booking["helper_id"], booking["neighbour_id"]])
            visit = FlaggedVisit(
                starts_at=booking["starts_at"],
                request_status=RequestStatus(request["status"]),
                helper_suspended=suspended[booking["helper_id"]],
                neighbour_suspended=suspended[booking["neighbour_id"]],
            )
            why = refusal(decision, visit, now)
            if why is not None:
                raise Conflict(why)
            if decision is FlagDecision.CANCEL:
                await _cancel(repo, booking, request)
            elif decision is FlagDecision.REOFFER:
                await _reoffer(repo, booking, request)
            else:
                await _keep(repo, booking)
    except HoursTaken as error:
        raise Conflict(
            "the helper's hours are no longer free: they have another visit then"
        ) from error
    except AlreadyBooked as error:
        raise Conflict("the request has been booked with another helper since") from error
    return {
        "booking_id": booking_id,
        "request_id": booking["request_id"],
        "decision": decision,
        "status": "confirmed" if decision is FlagDecision.KEEP else booking["status"],
        "request_status": _request_after(decision, RequestStatus(request["status"])),
    }


def _request_after(decision: FlagDecision, status: RequestStatus) -> RequestStatus:
    if decision is FlagDecision.KEEP:
        return RequestStatus.BOOKED
    if decision is FlagDecision.REOFFER:
        return RequestStatus.OPEN
    return RequestStatus.CANCELLED if status in _WAITING_TO_CLOSE else status


#: What a cancellation closes: a request still waiting for a helper (one booked anew since
#: is someone else's visit now, and stays).
_WAITING_TO_CLOSE = frozenset({RequestStatus.OPEN, RequestStatus.UNMATCHED, RequestStatus.HELD})


def _referred_by(neighbour: Row | None) -> uuid.UUID | None:
    """The partner who referred the neighbour, as an accept names it for the ledger."""
    if neighbour is None or neighbour["kind"] != PersonKind.REFERRED:
        return None
    partner_id = neighbour["partner_id"]
    return partner_id if isinstance(partner_id, uuid.UUID) else None


def _told(booking: Row) -> dict[str, str]:
    return {"booking_id": str(booking["booking_id"]), "request_id": str(booking["request_id"])}


async def _cancel(repo: Repository, booking: Row, request: Row) -> None:
    status = RequestStatus(request["status"])
    if status in _WAITING_TO_CLOSE:
        await repo.set_request_status(request["request_id"], RequestStatus.CANCELLED)
        await repo.withdraw_offers(request_ids=[request["request_id"]])
        if status in _OFFERED:
            await repo.publish(
                [
                    Envelope.wrap(
                        HelpRequestCancelled(
                            request_id=request["request_id"],
                            neighbourhood=request["neighbourhood"],
                        ),
                        producer=PRODUCER,
                    )
                ]
            )
    await repo.clear_flag(booking["booking_id"])
    for person_id in (booking["neighbour_id"], booking["helper_id"]):
        await repo.notify(person_id, "booking.cancelled", _told(booking))


async def _reoffer(repo: Repository, booking: Row, request: Row) -> None:
    if RequestStatus(request["status"]) is not RequestStatus.OPEN:
        # Held, or escalated to operators: matching is not offering it, so it is asked for
        # anew. An open one is being offered already: asking again would make matching take
        # it up a second time once it is booked.
        await repo.set_request_status(request["request_id"], RequestStatus.OPEN)
        await repo.publish([Envelope.wrap(help_requested(request), producer=PRODUCER)])
    await repo.clear_flag(booking["booking_id"])
    await repo.notify(booking["neighbour_id"], "request.reopened", _told(booking))


async def _keep(repo: Repository, booking: Row) -> None:
    helper = await repo.person(booking["helper_id"])
    # A partner's service answers many visits at once: its hours are not one person's to
    # hold (as when it accepted).
    partner_service = helper is not None and helper["kind"] == PersonKind.PARTNER_SERVICE
    hours = [] if partner_service else booked_hours(booking["starts_at"], booking["hours"])
    await repo.keep_booking(booking, hours)
    event = BookingKept(
        **visit_fields(booking),
        offer_id=booking["offer_id"],
        referred_by=_referred_by(await repo.person(booking["neighbour_id"])),
    )
    await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    for person_id in (booking["neighbour_id"], booking["helper_id"]):
        await repo.notify(person_id, "booking.kept", _told(booking))
