"""What operators may decide about a visit a suspension held, and when each is refused.

A suspension holds each upcoming confirmed visit of the suspended person (the booking is
cancelled, ``held`` and ``flagged``) and leaves it on the operators' flagged list. An operator
then decides, with a reason: call it off for good, ask for its request again, or keep it as
booked with the same two people. This module holds the rules alone (no I/O): the service
layer reads the facts under locks and asks here whether the decision stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.booking.domain.visits import RequestStatus


class FlagDecision(StrEnum):
    """An operator's decision on a flagged visit."""

    CANCEL = "cancel"
    """Called off for good: the request closed if it still waits, both sides told."""
    REOFFER = "reoffer"
    """The request asked for again (never while its neighbour is suspended)."""
    KEEP = "keep"
    """The visit goes ahead as booked with the same two people (both reinstated)."""


#: Where a request still waits for a helper: it may be closed, asked for again, or kept.
WAITING = frozenset({RequestStatus.OPEN, RequestStatus.UNMATCHED, RequestStatus.HELD})


@dataclass(frozen=True, slots=True)
class FlaggedVisit:
    """What a decision depends on, read under locks.

    Attributes:
        starts_at: When the visit was to start.
        request_status: Its request's status now (it may have been booked anew).
        helper_suspended: Whether trust has its helper suspended now.
        neighbour_suspended: Whether trust has its neighbour suspended now.
    """

    starts_at: datetime
    request_status: RequestStatus
    helper_suspended: bool
    neighbour_suspended: bool


def refusal(decision: FlagDecision, visit: FlaggedVisit, now: datetime) -> str | None:
    """Why ``decision`` cannot be taken on ``visit`` at ``now``, or ``None``.

    Calling a visit off is always possible. Asking again or keeping it needs a visit still to
    come whose request nobody has taken or cancelled since; keeping it needs both people in
    good standing (a helper's free hours are the database's to guard, at the write).
    """
    if decision is FlagDecision.CANCEL:
        return None
    if decision is FlagDecision.REOFFER and visit.neighbour_suspended:
        return "the neighbour is suspended: their request waits until they are reinstated"
    if decision is FlagDecision.KEEP:
        still = [
            side
            for side, suspended in (
                ("helper", visit.helper_suspended),
                ("neighbour", visit.neighbour_suspended),
            )
            if suspended
        ]
        if still:
            verb = "is" if len(still) == 1 else "are"
            return f"the {' and the '.join(still)} {verb} still suspended"
    if visit.starts_at <= now:
        return "the visit's time has passed"
    if visit.request_status is RequestStatus.BOOKED:
        return "the request has been booked with another helper since"
    if visit.request_status not in WAITING:
        return f"the request is {visit.request_status.value}: nothing waits to be offered or kept"
    return None
