"""What operators follow, rebuilt from the streams: each request's journey, and open concerns.

``Ledger.apply`` takes events in the order the streams hold them (per key) and keeps only what
the console's panels need. Requests and bookings are on different topics, so a booking may be
seen before its request: every handler copes with the other half missing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.contracts import Envelope, Payload
from shared.contracts.bookings import BookingCancelled, BookingConfirmed, OfferDeclined
from shared.contracts.people import AvailabilityChangedV2, PersonProfileChanged
from shared.contracts.requests import (
    HelpRequestCancelled,
    HelpRequested,
    OfferMade,
    RequestUnmatched,
)
from shared.contracts.trust import (
    ConcernRaised,
    ConcernResolved,
    RelationshipChanged,
    RelationshipStage,
)

#: How long a request, a booking or a continuity sample is kept once it is this old.
KEEP = timedelta(days=30)


@dataclass(slots=True)
class RequestTrack:
    """One occurrence of help asked for, from request to booking (or escalation)."""

    request_id: uuid.UUID
    neighbourhood: str
    skill: str
    starts_at: datetime
    hours: int = 1
    neighbour_id: uuid.UUID | None = None
    series_id: uuid.UUID | None = None
    occurrence: int = 1
    requested_at: datetime | None = None
    rounds: int = 0
    offered: list[uuid.UUID] = field(default_factory=list)
    declined: set[uuid.UUID] = field(default_factory=set)
    unmatched_at: datetime | None = None
    unmatched_reason: str | None = None
    booked_at: datetime | None = None
    helper_id: uuid.UUID | None = None
    cancelled: bool = False

    @property
    def first_seen(self) -> datetime:
        """When the request was made, or the earliest thing known about it."""
        known = [t for t in (self.requested_at, self.unmatched_at, self.booked_at) if t]
        return min(known) if known else self.starts_at


@dataclass(frozen=True, slots=True)
class Booked:
    """A visit booked: who helps, for how long, and whether it kept a regular pair together."""

    booking_id: uuid.UUID
    helper_id: uuid.UUID
    hours: int
    booked_at: datetime
    recurring: bool
    with_regular: bool
    cancelled: bool = False


#: Where an operator reads a concern's summary: booking's operator API, its system of record.
SUMMARY_AT = "booking: GET /v1/operator/concerns"


@dataclass(frozen=True, slots=True)
class OpenConcern:
    """A safeguarding concern no operator has resolved yet.

    Its summary is not here: it never travels on a topic. Booking keeps it, and operators
    read it through booking's operator API (``SUMMARY_AT``).
    """

    concern_id: uuid.UUID
    about_id: uuid.UUID
    raised_by_role: str
    raised_at: datetime
    booking_id: uuid.UUID | None
    summary_at: str = SUMMARY_AT


class Ledger:
    """The state behind the waiting, concerns and figures panels."""

    def __init__(self) -> None:
        self.requests: dict[uuid.UUID, RequestTrack] = {}
        self.bookings: dict[uuid.UUID, Booked] = {}
        self.concerns: dict[uuid.UUID, OpenConcern] = {}
        self.helpers: set[uuid.UUID] = set()
        """People who offer at least one skill: the helpers whose hours are spread."""
        self.weekly_hours: dict[uuid.UUID, tuple[str, int]] = {}
        """Per person, their neighbourhood and the hours a week their weekly rules offer (the
        map's helpers' free hours: away days, extra days and bookings are not counted)."""
        # Per neighbour, the helpers trust calls their regulars (and still matchable).
        self._regulars: dict[uuid.UUID, set[uuid.UUID]] = {}
        # Per series, the helper of each booked occurrence.
        self._series_helpers: dict[uuid.UUID, dict[int, uuid.UUID]] = {}

    def apply(self, envelope: Envelope[Payload]) -> None:
        """Take one event into account; events of no interest change nothing."""
        data, at = envelope.data, envelope.occurred_at
        if isinstance(data, HelpRequested):
            self._requested(data, at)
        elif isinstance(data, OfferMade):
            track = self._track(data.request_id, data.neighbourhood, data.skill, data.starts_at)
            track.rounds = max(track.rounds, data.round)
            if data.helper_id not in track.offered:
                track.offered.append(data.helper_id)
            track.neighbour_id = data.neighbour_id
        elif isinstance(data, OfferDeclined) and data.request_id in self.requests:
            track = self.requests[data.request_id]
            track.declined.add(data.helper_id)
            if data.helper_id not in track.offered:  # the offer itself is on another topic
                track.offered.append(data.helper_id)
        elif isinstance(data, RequestUnmatched):
            self._unmatched(data, at)
        elif isinstance(data, BookingConfirmed):
            self._booked(data, at)
        elif isinstance(data, BookingCancelled) and data.booking_id in self.bookings:
            self.bookings[data.booking_id] = replace(self.bookings[data.booking_id], cancelled=True)
        elif isinstance(data, HelpRequestCancelled) and data.request_id in self.requests:
            self.requests[data.request_id].cancelled = True
        elif isinstance(data, RelationshipChanged):
            self._relationship(data)
        elif isinstance(data, AvailabilityChangedV2):
            hours = sum(span.end_hour - span.start_hour for span in data.rules)
            self.weekly_hours[data.person_id] = (data.neighbourhood, hours)
        elif isinstance(data, PersonProfileChanged):
            if data.skills:
                self.helpers.add(data.person_id)
            else:
                self.helpers.discard(data.person_id)
        elif isinstance(data, ConcernRaised):
            self.concerns[data.concern_id] = OpenConcern(
                data.concern_id,
                data.about_id,
                data.raised_by_role.value,
                at,
                data.booking_id,
            )
        elif isinstance(data, ConcernResolved):
            # Same topic and key (the person) as the concern: it never arrives first.
            self.concerns.pop(data.concern_id, None)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop requests and bookings older than ``cutoff``: figures look back less far."""
        self.requests = {k: t for k, t in self.requests.items() if t.first_seen >= cutoff}
        self.bookings = {k: b for k, b in self.bookings.items() if b.booked_at >= cutoff}
        live_series = {t.series_id for t in self.requests.values() if t.series_id is not None}
        self._series_helpers = {k: v for k, v in self._series_helpers.items() if k in live_series}

    def _track(
        self, request_id: uuid.UUID, neighbourhood: str, skill: str, starts_at: datetime
    ) -> RequestTrack:
        track = self.requests.get(request_id)
        if track is None:
            track = RequestTrack(request_id, neighbourhood, skill, starts_at)
            self.requests[request_id] = track
        return track

    def _requested(self, data: HelpRequested, at: datetime) -> None:
        track = self._track(data.request_id, data.neighbourhood, data.skill.value, data.starts_at)
        if track.booked_at is not None and at > track.booked_at:
            # Booking asks for a booked request again only once its visit was called off
            # (its helper cancelled, a suspension held it, an operator asked again): it waits
            # again. An ask older than the booking (the streams are read side by side) does
            # not count.
            track.booked_at = track.helper_id = None
            track.unmatched_at = track.unmatched_reason = None
        if track.requested_at is None or at > track.requested_at:
            track.requested_at = at
        track.hours = data.hours
        track.neighbour_id = data.neighbour_id
        track.series_id = data.series_id
        track.occurrence = data.occurrence

    def _unmatched(self, data: RequestUnmatched, at: datetime) -> None:
        track = self._track(data.request_id, data.neighbourhood, data.skill.value, data.starts_at)
        track.unmatched_at = at
        track.unmatched_reason = data.reason
        track.rounds = max(track.rounds, data.rounds)
        track.neighbour_id = data.neighbour_id
        for helper in data.tried_helper_ids:
            if helper not in track.offered:
                track.offered.append(helper)

    def _booked(self, data: BookingConfirmed, at: datetime) -> None:
        track = self._track(data.request_id, data.neighbourhood, data.skill.value, data.starts_at)
        track.neighbour_id = data.neighbour_id
        if track.requested_at is None or track.requested_at <= at:
            track.booked_at = at
            track.helper_id = data.helper_id
        # Else the visit was asked for again after this booking (read first: the streams are
        # read side by side): it is called off, and the request waits.
        # Who the regular helper is, as things stood when this visit was booked.
        expected = set(self._regulars.get(data.neighbour_id, ()))
        if track.series_id is not None:
            earlier = self._series_helpers.setdefault(track.series_id, {})
            before = [n for n in earlier if n < track.occurrence]
            if before:
                expected.add(earlier[max(before)])
            earlier[track.occurrence] = data.helper_id
        self.bookings[data.booking_id] = Booked(
            booking_id=data.booking_id,
            helper_id=data.helper_id,
            hours=data.hours,
            booked_at=at,
            recurring=bool(expected),
            with_regular=data.helper_id in expected,
        )

    def _relationship(self, data: RelationshipChanged) -> None:
        regulars = self._regulars.setdefault(data.neighbour_id, set())
        if data.stage is RelationshipStage.REGULAR and data.matchable:
            regulars.add(data.helper_id)
        else:
            regulars.discard(data.helper_id)
