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

So a booking made from one neighbourhood makes the hour busy in every copy. Facts are
idempotent (a profile or hours set whole, a booking added or released by id); a copy
delivered twice, or a fact handled again after a crash, changes nothing a second time.
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
from services.matching.state import HelperState, LedgerEntry, MatchingState
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
    """The helper is booked for a visit (again, with new hours, when it is rescheduled)."""

    helper_id: uuid.UUID
    booking_id: uuid.UUID
    visit: BookedVisit
    kind: Literal["booked"] = "booked"


@dataclass(frozen=True, slots=True)
class ReleasedFact:
    """A booked visit of the helper's is cancelled: its hours are free again."""

    helper_id: uuid.UUID
    booking_id: uuid.UUID
    kind: Literal["released"] = "released"


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
    """``helper`` changed by ``fact``, at ``seq`` (pure: the ledger and copies share it)."""
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
    helper = apply_fact(entry.state, fact, entry.state.seq + 1)
    home = fact.home if isinstance(fact, ProfileFact) else entry.home
    reach = reach_of(LedgerEntry(helper, home))
    state.put_ledger_entry(fact.helper_id, LedgerEntry(helper, home, reach))
    forwards: list[Forward] = []
    for neighbourhood in sorted(reach | entry.filed):
        copy = HelperCopy(neighbourhood, fact.helper_id, helper.seq)
        if neighbourhood in reach and neighbourhood in entry.filed:
            copy = replace(copy, fact=fact)
        elif neighbourhood in reach:
            copy = replace(copy, state=helper)
        forwards.append(Forward("copies", neighbourhood.encode(), _COPY.dump_json(copy)))
    return forwards


def take_copy(state: MatchingState, raw: bytes) -> str | None:
    """File one copy in its neighbourhood, unless a newer one is filed there already.

    Returns the neighbourhood when its supply may have grown (a helper filed, changed or
    unfiled, hours freed); ``None`` for a copy delivered again, or one that only books or
    holds a helper's hours.

    Raises:
        pydantic.ValidationError: ``raw`` is not a copy.
    """
    copy = _COPY.validate_json(raw)
    if copy.erased:
        state.forget_helper(copy.neighbourhood, copy.helper_id)
        return copy.neighbourhood
    filed = state.helper(copy.neighbourhood, copy.helper_id)
    if copy.seq <= filed.seq:
        return None  # delivered again
    if copy.state is not None:
        helper = copy.state
    elif copy.fact is not None:
        helper = apply_fact(filed, copy.fact, copy.seq)
    else:
        helper = HelperState(seq=copy.seq)  # out of reach: unfiled
    state.put_helper(copy.neighbourhood, copy.helper_id, helper)
    return None if _only_takes_hours(filed, copy.fact) else copy.neighbourhood


def _only_takes_hours(filed: HelperState, fact: Fact | None) -> bool:
    """Whether ``fact`` only takes hours away from the helper: a new booking or hold. No
    escalated request can be taken because of one, so none is asked again (each would cost a
    ranking per waiting request, on every copy of every booking). A booking moved to other
    hours frees its old ones."""
    if isinstance(fact, BookedFact):
        return fact.booking_id not in filed.bookings
    if isinstance(fact, HeldFact):
        return fact.request_id not in filed.holds
    return False
