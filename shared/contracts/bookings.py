"""Events about offers answered and visits booked, made and checked in (``bookings``)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime

from shared.contracts.envelope import Payload
from shared.contracts.skills import Skill
from shared.contracts.types import Hours, Neighbourhood


class Side(StrEnum):
    """Which side of a visit a person is on."""

    HELPER = "helper"
    NEIGHBOUR = "neighbour"


class _Visit(Payload):
    booking_id: uuid.UUID
    request_id: uuid.UUID
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    skill: Skill
    starts_at: AwareDatetime
    hours: Hours


class OfferDeclined(Payload):
    """A helper said no to an offer (or let it lapse); matching widens the search."""

    TYPE = "offer.declined"

    offer_id: uuid.UUID
    request_id: uuid.UUID
    helper_id: uuid.UUID
    neighbourhood: Neighbourhood
    expired: bool = False


class BookingConfirmed(_Visit):
    """A helper accepted first: the visit is booked and the helper's hours are taken.

    Version 2 says which partner referred the neighbour (``referred_by``, a partner's id;
    ``None`` for a member who asked for themselves), so that the ledger can post the visit
    under that partner's community rules. ``upcast_confirmed_v1_v2`` reads version 1 as a
    visit nobody referred.
    """

    TYPE = "booking.confirmed"
    VERSION = 2

    offer_id: uuid.UUID
    referred_by: uuid.UUID | None = None


def upcast_confirmed_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 did not say who referred the neighbour: read it as nobody."""
    return {**data, "referred_by": None}


class BookingKept(BookingConfirmed):
    """A visit a suspension held goes ahead after all, as booked, with the same two people:
    an operator kept it once both were in good standing again.

    It says everything ``booking.confirmed`` says (the booking's own id and offer), and every
    consumer that reads a confirmed booking reads this one as one (the helper's hours taken,
    the request booked); it has its own type so that a consumer that tells people (notify)
    can say the visit is back on rather than newly booked, and a redelivered
    ``booking.confirmed`` is never mistaken for it. It carries ``booking.confirmed``
    version 2's fields (``referred_by`` too) from its own first version.
    """

    TYPE = "booking.kept"
    VERSION = 1


class BookingCancelled(_Visit):
    """A booked visit will not happen; ``late`` when inside the notice window.

    Version 2 no longer carries the reason the person gave: booking keeps it.
    ``upcast_cancelled_v1_v2`` drops a version 1 event's reason.
    """

    TYPE = "booking.cancelled"
    VERSION = 2

    cancelled_by: Side
    late: bool


def upcast_cancelled_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 carried the reason the person gave: booking keeps it, the event no longer."""
    return {name: value for name, value in data.items() if name != "reason"}


class VisitCheckedIn(_Visit):
    """The helper arrived."""

    TYPE = "visit.checked_in"


class VisitCompleted(_Visit):
    """The helper checked out: the visit happened."""

    TYPE = "visit.completed"


class BookingRescheduled(_Visit):
    """Both sides agreed to move a visit: ``starts_at`` and ``hours`` are the new ones.

    The helper's old hours are freed and the new ones taken in the same transaction.
    """

    TYPE = "booking.rescheduled"

    previous_starts_at: AwareDatetime
    previous_hours: Hours
    proposed_by: Side


class RescheduleProposed(Payload):
    """One side proposed a new time for a visit; nothing moves until the other confirms
    (then ``booking.rescheduled``). A newer proposal replaces an earlier one.

    Ids and times only: ``starts_at`` and ``hours`` are the visit's current ones,
    ``proposed_starts_at`` and ``proposed_hours`` the new ones asked for.
    """

    TYPE = "booking.reschedule_proposed"

    booking_id: uuid.UUID
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: Neighbourhood
    starts_at: AwareDatetime
    hours: Hours
    proposed_starts_at: AwareDatetime
    proposed_hours: Hours
    proposed_by: Side


class VisitNoShow(_Visit):
    """A visit did not happen because one side was not there; ``absent`` says which."""

    TYPE = "visit.no_show"

    absent: Side
    reported_by: Side


class VisitNoShowV2(_Visit):
    """A visit did not happen because one side was not there; ``absent`` says which.

    Version 2 lets ``reported_by`` be ``None``: nobody reported it, the helper had not checked
    in some time after the start (booking's visit sweep). Version 1 (``VisitNoShow``, a side
    always) is still published for a no-show one side reports, and read as before.
    """

    TYPE = "visit.no_show"
    VERSION = 2

    absent: Side
    reported_by: Side | None


class WelfareCheckRequested(Payload):
    """A neighbour did not answer the door: operators should check they are well.

    Not a penalty and not a no-show: trust ignores it; operators act on it. Version 2 says
    only whether the helper left a note (``has_note``): booking keeps the note, and operators
    read it there. ``upcast_welfare_v1_v2`` drops a version 1 event's note.
    """

    TYPE = "welfare.check_requested"
    VERSION = 2

    booking_id: uuid.UUID
    neighbour_id: uuid.UUID
    helper_id: uuid.UUID
    neighbourhood: Neighbourhood
    starts_at: AwareDatetime
    has_note: bool = False


def upcast_welfare_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 carried the helper's note: only whether there was one is kept."""
    rest = {name: value for name, value in data.items() if name != "note"}
    return {**rest, "has_note": bool(data.get("note"))}
