"""Filing each helper in every neighbourhood within their travel radius.

A request is decided by the one partition of its own neighbourhood, with everything it needs
there; a helper may live in another neighbourhood and still be near enough. So each helper is
filed, as a copy, in every neighbourhood holding a street within their radius
(``shared.geo.neighbourhoods_within``), and every change to a helper reaches every copy:

1. what booking says of a helper (profile, hours, bookings) and trust's visit counts arrive
   on the neighbourhood streams, wherever they were keyed; matching turns each into a
   ``Fact`` sent on an internal topic keyed by the helper, so one partition sees all of one
   helper's changes in order;
2. there the helper's ledger entry (their whole state, a sequence number, and where they are
   filed) takes the fact, and a ``HelperCopy`` goes to each neighbourhood within reach, keyed
   by the neighbourhood so it lands on that neighbourhood's partition; neighbourhoods left
   out of reach get an empty copy that unfiles the helper;
3. each neighbourhood keeps the copy with the highest sequence number.

Bookings are filed by reference: the ledger keeps a helper's bookings in one record per
ISO week (``MatchingState.helper_weeks``, a table every worker reads), and every copy refers
to it. So a booking made from one neighbourhood makes the hour busy in every copy at once,
and writes one small record: no copy changes (a copy used to hold every booking, and each
booking rewrote all of them in each of up to 27 neighbourhoods). A cancelled or moved visit
still goes to every copy, whose escalated requests are tried again.

Facts are idempotent (a profile or hours set whole, a booking added or released by id); a
copy delivered twice, or a fact handled again after a crash, changes nothing a second time.
A neighbourhood newly in reach is sent the whole state; one already holding a copy only the
fact, applied there as in the ledger (``apply_fact``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from services.matching.domain import BookedVisit, HelperProfile
from services.matching.state import (
    HelperState,
    LedgerEntry,
    MatchingState,
    WeekBookings,
    weeks_of,
)
from shared.geo import neighbourhoods_within
from shared.weekly_hours import WeeklyHours


@dataclass(frozen=True, slots=True)
class ProfileFact:
    """The helper's profile, filed from ``home`` (the neighbourhood booking keys them by)."""

    helper_id: uuid.UUID
    home: str
    profile: HelperProfile
    kind: Literal["profile"] = "profile"


@dataclass(frozen=True, slots=True)
class HoursFact:
    """The hours the helper offers: weekly rules (availability v2), or a list of hours (v1,
    with ``weekly`` left out)."""

    helper_id: uuid.UUID
    free_hours: frozenset[datetime]
    weekly: WeeklyHours | None = None
    kind: Literal["hours"] = "hours"


@dataclass(frozen=True, slots=True)
class ErasedFact:
    """The person deleted their account: forget them in every neighbourhood."""

    helper_id: uuid.UUID
    kind: Literal["erased"] = "erased"


@dataclass(frozen=True, slots=True)
class BookedFact:
    """The helper is booked for a visit (again, with new hours, when it is rescheduled).

    Attributes:
        previous: The visit's hours before it was rescheduled: where the ledger looks for it.
    """

    helper_id: uuid.UUID
    booking_id: uuid.UUID
    visit: BookedVisit
    kind: Literal["booked"] = "booked"
    previous: BookedVisit | None = None


@dataclass(frozen=True, slots=True)
class ReleasedFact:
    """A booked visit of the helper's is cancelled: its hours are free again.

    Attributes:
        visit: The cancelled visit's hours: where the ledger looks for it (left out by facts
            from before week records: the ledger then looks in every week).
    """

    helper_id: uuid.UUID
    booking_id: uuid.UUID
    kind: Literal["released"] = "released"
    visit: BookedVisit | None = None


@dataclass(frozen=True, slots=True)
class HeldFact:
    """A request asks the helper first, alone: its hours are held from other requests."""

    helper_id: uuid.UUID
    request_id: uuid.UUID
    visit: BookedVisit
    kind: Literal["held"] = "held"


@dataclass(frozen=True, slots=True)
class UnheldFact:
    """The request that held the helper's hours moved on (booked, declined, lapsed, over)."""

    helper_id: uuid.UUID
    request_id: uuid.UUID
    kind: Literal["unheld"] = "unheld"


@dataclass(frozen=True, slots=True)
class VisitsFact:
    """Visits the helper has made to one neighbour, from trust."""

    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    visits: int
    kind: Literal["visits"] = "visits"


@dataclass(frozen=True, slots=True)
class VettedFact:
    """Trust now lets the helper be offered work (newly vetted, or reinstated): nothing of
    theirs changes here, but every neighbourhood holding them hears of it, so its escalated
    requests are tried again (trust's standing itself is a table every worker reads)."""

    helper_id: uuid.UUID
    kind: Literal["vetted"] = "vetted"


AnyFact = (
    ProfileFact
    | HoursFact
    | BookedFact
    | ReleasedFact
    | HeldFact
    | UnheldFact
    | VisitsFact
    | ErasedFact
    | VettedFact
)
Fact = Annotated[AnyFact, Field(discriminator="kind")]


@dataclass(frozen=True, slots=True)
class HelperCopy:
    """What one neighbourhood files of a helper: their whole state, a change, or nothing.

    Attributes:
        neighbourhood: Where it is filed (the message key).
        helper_id: Whose it is.
        seq: The ledger's sequence number: a neighbourhood takes only a newer one. Every
            neighbourhood a helper is filed in gets every number in turn (one partition, one
            sender, in order), so a change applies to the state it was made to.
        state: The whole state, for a neighbourhood newly within reach.
        fact: The change, for a neighbourhood the helper was already filed in.
        erased: The person deleted their account: the neighbourhood forgets them.
    """

    neighbourhood: str
    helper_id: uuid.UUID
    seq: int
    state: HelperState | None = None
    fact: Fact | None = None
    erased: bool = False


@dataclass(frozen=True, slots=True)
class Forward:
    """A message matching sends itself, on ``channel``'s internal topic."""

    channel: Literal["facts", "copies"]
    key: bytes
    value: bytes


FACTS_TOPIC_SUFFIX = "helper-facts"
COPIES_TOPIC_SUFFIX = "helper-copies"

_FACT: TypeAdapter[Fact] = TypeAdapter(Fact)
_COPY = TypeAdapter(HelperCopy)


def filing_topics(app_id: str) -> tuple[str, str]:
    """The internal topics of the matching app ``app_id``: facts, then copies."""
    return f"{app_id}-{FACTS_TOPIC_SUFFIX}", f"{app_id}-{COPIES_TOPIC_SUFFIX}"


def fact_forward(fact: AnyFact) -> Forward:
    """The message that takes ``fact`` to the helper's ledger."""
    return Forward("facts", str(fact.helper_id).encode(), _FACT.dump_json(fact))


def reach_of(entry: LedgerEntry) -> frozenset[str]:
    """Where the helper should be filed: every neighbourhood within their radius."""
    profile = entry.state.profile
    if profile is None or entry.home is None:
        return frozenset()  # nobody is offered work before their profile arrives
    return neighbourhoods_within(profile.cell, profile.travel_radius_km) | {entry.home}


def apply_fact(helper: HelperState, fact: AnyFact, seq: int) -> HelperState:
    """``helper`` changed by ``fact``, at ``seq`` (pure: the ledger and copies share it).

    A state kept in tables holds its bookings in week records (``booking_weeks``); this
    changes the bookings the state itself holds (a whole state, or one stored before them).
    """
    if isinstance(fact, ProfileFact):
        helper = replace(helper, profile=fact.profile)
    elif isinstance(fact, HoursFact):
        helper = replace(helper, free_hours=fact.free_hours, weekly=fact.weekly)
    elif isinstance(fact, ErasedFact):
        helper = HelperState()
    elif isinstance(fact, BookedFact):
        helper = replace(helper, bookings={**helper.bookings, fact.booking_id: fact.visit})
    elif isinstance(fact, ReleasedFact):
        bookings = {k: v for k, v in helper.bookings.items() if k != fact.booking_id}
        helper = replace(helper, bookings=bookings)
    elif isinstance(fact, HeldFact):
        helper = replace(helper, holds={**helper.holds, fact.request_id: fact.visit})
    elif isinstance(fact, UnheldFact):
        holds = {k: v for k, v in helper.holds.items() if k != fact.request_id}
        helper = replace(helper, holds=holds)
    elif isinstance(fact, VettedFact):
        pass  # news for the neighbourhoods, no change to the helper
    else:
        helper = replace(helper, visits={**helper.visits, fact.neighbour_id: fact.visits})
    return replace(helper, seq=seq)


def take_fact(state: MatchingState, raw: bytes) -> list[Forward]:
    """Apply one fact to the helper's ledger entry; the copies it sends.

    A neighbourhood newly within reach gets the whole state; one already holding a copy gets
    the fact alone (a booking is a few bytes; the whole state carries weeks of hours); one
    left out of reach gets an empty copy.

    Raises:
        pydantic.ValidationError: ``raw`` is not a fact.
    """
    fact = _FACT.validate_json(raw)
    entry = state.ledger_entry(fact.helper_id)
    if isinstance(fact, VettedFact) and not entry.filed:
        return []  # not a helper anywhere (yet): nobody to tell, nothing to keep
    if isinstance(fact, ErasedFact):
        state.forget_ledger_entry(fact.helper_id)
        return [
            Forward(
                "copies",
                neighbourhood.encode(),
                _COPY.dump_json(HelperCopy(neighbourhood, fact.helper_id, 0, erased=True)),
            )
            for neighbourhood in sorted(entry.filed)
        ]
    seq = entry.state.seq + 1
    if isinstance(fact, BookedFact | ReleasedFact):
        helper = _book_in_ledger(state, entry.state, fact, seq)
    else:
        helper = apply_fact(entry.state, fact, seq)
    home = fact.home if isinstance(fact, ProfileFact) else entry.home
    reach = reach_of(LedgerEntry(helper, home))
    state.put_ledger_entry(fact.helper_id, LedgerEntry(helper, home, reach))
    if isinstance(fact, BookedFact) and fact.previous is None:
        # The booking is in the helper's week record, which every neighbourhood's copy refers
        # to: no copy changes (27 of them for a 5 km radius), and a new booking never lets
        # an escalated request be taken. A cancelled or moved visit goes on to every copy,
        # whose escalated requests are tried again.
        return []
    forwards: list[Forward] = []
    for neighbourhood in sorted(reach | entry.filed):
        copy = HelperCopy(neighbourhood, fact.helper_id, helper.seq)
        if neighbourhood in reach and neighbourhood in entry.filed:
            copy = replace(copy, fact=fact)
        elif neighbourhood in reach:
            copy = replace(copy, state=replace(helper, weeks=frozenset()))
        forwards.append(Forward("copies", neighbourhood.encode(), _COPY.dump_json(copy)))
    return forwards


def _book_in_ledger(
    state: MatchingState, helper: HelperState, fact: BookedFact | ReleasedFact, seq: int
) -> HelperState:
    """Apply a booking fact to the helper's week records; the ledger's state at ``seq``.

    A booking is looked for in the weeks of the hours it had (a cancelled visit's, a moved
    visit's earlier ones); a fact that does not say them (written before week records) looks
    in every week the helper has bookings in (one of that age moving a visit leaves it in its
    old week as well).
    """
    helper_id, booking_id = fact.helper_id, fact.booking_id
    if isinstance(fact, BookedFact):
        targets = weeks_of(fact.visit)
        looked = targets | (frozenset() if fact.previous is None else weeks_of(fact.previous))
    else:
        targets = frozenset()
        looked = helper.weeks if fact.visit is None else weeks_of(fact.visit)
    held = {
        week for week in looked & helper.weeks if booking_id in state.week(helper_id, week).bookings
    }
    for week in sorted(held | targets):
        bookings = dict(state.week(helper_id, week).bookings)
        bookings.pop(booking_id, None)
        if isinstance(fact, BookedFact) and week in targets:
            bookings[booking_id] = fact.visit
        state.put_week(helper_id, week, WeekBookings(bookings))
    # A state stored before week records held its bookings itself.
    inline = {k: v for k, v in helper.bookings.items() if k != booking_id}
    return replace(helper, bookings=inline, weeks=helper.weeks | targets, seq=seq)


def take_copy(state: MatchingState, raw: bytes) -> str | None:
    """File one copy in its neighbourhood, unless a newer one is filed there already.

    Returns the neighbourhood when its supply changed (a helper filed, changed or unfiled),
    ``None`` for a copy delivered again.

    Raises:
        pydantic.ValidationError: ``raw`` is not a copy.
    """
    copy = _COPY.validate_json(raw)
    if copy.erased:
        state.forget_helper(copy.neighbourhood, copy.helper_id)
        return copy.neighbourhood
    neighbourhood, helper_id = copy.neighbourhood, copy.helper_id
    filed = state.helper_record(neighbourhood, helper_id)
    if copy.seq <= filed.seq:
        return None  # delivered again
    if isinstance(copy.fact, BookedFact | ReleasedFact):
        # The helper's ledger moved the booking in their week records, which this copy refers
        # to; only a state stored before week records holds bookings itself.
        booking_id = copy.fact.booking_id
        if booking_id in filed.bookings:
            inline = {k: v for k, v in filed.bookings.items() if k != booking_id}
            state.put_helper(neighbourhood, helper_id, replace(filed, bookings=inline))
        return neighbourhood  # hours freed: escalated requests are tried again
    if copy.state is not None:
        helper = copy.state
    elif copy.fact is not None:
        helper = apply_fact(filed, copy.fact, copy.seq)
    else:
        helper = HelperState(seq=copy.seq)  # out of reach: unfiled
    state.put_helper(neighbourhood, helper_id, helper)
    return neighbourhood
