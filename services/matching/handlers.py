"""Applying one event to matching's state, and deciding which offers to publish.

Synchronous on purpose: between reading and writing a neighbourhood's state nothing else
runs, so two agents touching the same request cannot interleave. The caller publishes the
returned envelopes afterwards.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from services.matching import directing
from services.matching.domain import (
    BookedVisit,
    Candidate,
    HelperProfile,
    HelperView,
    Hold,
    PartnerService,
    PartnerView,
    Policy,
    Progress,
    Relationship,
    SeriesFaces,
    Standing,
    Status,
    asked_again,
    closed,
    declined,
    is_new_ask,
    next_round,
    rank,
    retried,
    why_ineligible,
)
from services.matching.domain.languages import normalised
from services.matching.filing import (
    AnyFact,
    BookedFact,
    ErasedFact,
    Forward,
    HeldFact,
    HoursFact,
    ProfileFact,
    ReleasedFact,
    UnheldFact,
    VettedFact,
    VisitsFact,
    fact_forward,
    take_copy,
    take_fact,
)
from services.matching.state import MatchingState, SeriesState
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    BookingRescheduled,
    OfferDeclined,
)
from shared.contracts.candidates import CandidatesAsked, OfferDirected
from shared.contracts.partners import PartnerServiceChanged
from shared.contracts.people import (
    AvailabilityChanged,
    AvailabilityChangedV2,
    PersonErased,
    PersonProfileChanged,
)
from shared.contracts.requests import (
    HelpRequestCancelled,
    HelpRequested,
    OfferMade,
    RequestUnmatched,
    SeriesChanged,
)
from shared.contracts.trust import RelationshipChanged, StandingChanged
from shared.weekly_hours import Away, ExtraHours, WeeklyHours, WeeklyRule

log = structlog.get_logger(__name__)
#: The standard library's logger behind ``log``: it knows which levels are kept.
_stdlib_log = logging.getLogger(__name__)

PRODUCER = "matching"
_EVENT_NAMESPACE = uuid.UUID("6f1b2f0e-4d0a-5c39-9a57-6b6974680002")

Outgoing = list[Envelope[Payload]]


@dataclass(frozen=True, slots=True)
class DueRound:
    """A round whose time is up, on a partition this worker owns."""

    neighbourhood: str
    request_id: uuid.UUID
    round: int


class Matcher:
    """Matching's event handlers over its state.

    What a handler learns about a helper is filed through the helper's ledger (``filing``)
    in every neighbourhood within their reach. In the app those facts and copies travel on
    internal topics: a handler leaves them in ``take_forwards()`` for the caller to send.
    With ``loopback`` (one process holding every partition: unit tests, the simulation) they
    are filed at once, before the handler returns.
    """

    def __init__(self, state: MatchingState, policy: Policy, *, loopback: bool = True) -> None:
        self.state = state
        self.policy = policy
        self.loopback = loopback
        self._forwards: list[Forward] = []
        #: Neighbourhoods whose helpers changed in a loopback filing since the last event.
        self._supplied: set[str] = set()

    def take_forwards(self) -> list[Forward]:
        """The facts and copies the handlers called since the last take left to send."""
        forwards, self._forwards = self._forwards, []
        return forwards

    def handle_fact(self, raw: bytes) -> None:
        """Apply a fact to its helper's ledger; the copies to file go to ``take_forwards``.

        Raises:
            pydantic.ValidationError: ``raw`` is not a fact.
        """
        self._forwards += take_fact(self.state, raw)
        self._settle()

    def handle_copy(self, raw: bytes, now: datetime) -> Outgoing:
        """File a helper's copy in its neighbourhood; return the offers of escalated requests
        there that the change lets someone take (``retry_unmatched``).

        Raises:
            pydantic.ValidationError: ``raw`` is not a copy.
        """
        neighbourhood = take_copy(self.state, raw)
        return [] if neighbourhood is None else self.retry_unmatched(neighbourhood, now)

    def _file(self, fact: AnyFact) -> None:
        self._forwards.append(fact_forward(fact))
        self._settle()

    def _settle(self) -> None:
        """With ``loopback``, file every fact and copy waiting, in order, at once."""
        if not self.loopback:
            return
        while self._forwards:
            forward = self._forwards.pop(0)
            if forward.channel == "facts":
                self._forwards += take_fact(self.state, forward.value)
            else:
                neighbourhood = take_copy(self.state, forward.value)
                if neighbourhood is not None:
                    self._supplied.add(neighbourhood)

    def _retry_supplied(self, now: datetime) -> Outgoing:
        """With ``loopback``, what the helpers filed meanwhile let escalated requests have."""
        outgoing: Outgoing = []
        while self._supplied:
            outgoing += self.retry_unmatched(self._supplied.pop(), now)
        return outgoing

    def handle(self, envelope: Envelope[Payload], partition: int, now: datetime) -> Outgoing:
        """Apply one neighbourhood event; return the offers or escalations it causes.

        Event types matching has no use for (visits checked in, completed or missed, welfare
        checks, and any type added to these topics later) change nothing and cause nothing.
        A change of helpers (their profile, hours or bookings) reaches each neighbourhood as
        a filed copy, where escalated requests are tried again (``retry_unmatched``).
        """
        outgoing = self._apply(envelope, partition, now)
        return outgoing + self._retry_supplied(now)

    def _apply(self, envelope: Envelope[Payload], partition: int, now: datetime) -> Outgoing:
        data = envelope.data
        if isinstance(data, PersonProfileChanged):
            self._profile(data)
        elif isinstance(data, PersonErased):
            # Behind their profile events on this partition: no profile brings them back.
            # Their ledger forgets them and tells every neighbourhood holding a copy.
            self._file(ErasedFact(data.person_id))
        elif isinstance(data, AvailabilityChangedV2):
            self._file(HoursFact(data.person_id, frozenset(), weekly_hours(data)))
        elif isinstance(data, AvailabilityChanged):
            # Version 1: a list of hours that ends at its horizon (no rules to roll on).
            self._file(HoursFact(data.person_id, frozenset(data.free_hours)))
        elif isinstance(data, RelationshipChanged):
            self._relationship(data)
        elif isinstance(data, HelpRequested):
            return self._requested(envelope, data, partition, now)
        elif isinstance(data, SeriesChanged):
            self._series_changed(data)
        elif isinstance(data, HelpRequestCancelled):
            return self._close(data.neighbourhood, data.request_id, Status.CANCELLED, now)
        elif isinstance(data, BookingConfirmed):
            return self._booked(data, now)
        elif isinstance(data, BookingRescheduled):
            # The helper's old hours are free again and the new ones taken.
            visit = BookedVisit(starts_at=data.starts_at, hours=data.hours)
            self._file(BookedFact(data.helper_id, data.booking_id, visit))
        elif isinstance(data, BookingCancelled):
            self._file(ReleasedFact(data.helper_id, data.booking_id))
        elif isinstance(data, OfferDeclined):
            return self._declined(data, now)
        elif isinstance(data, CandidatesAsked):
            return directing.list_candidates(self, envelope, data)
        elif isinstance(data, OfferDirected):
            return directing.direct_offer(self, envelope, data, partition, now)
        return []

    def handle_standing(self, data: StandingChanged, now: datetime) -> Outgoing:
        """Apply trust's standing for a person (a table every worker sees).

        A person trust now lets be offered work (vetted, reinstated) is news to every
        neighbourhood they are filed in, wherever its partition is: the news goes through
        their ledger (``VettedFact``) like any change of a helper, and each neighbourhood
        tries its escalated requests again when it arrives (with ``loopback``, at once: the
        offers are returned).
        """
        self.state.put_standing(
            data.person_id, Standing(data.suspended, dict(data.approved_skills))
        )
        if not data.suspended and data.approved_skills:
            self._file(VettedFact(data.person_id))
        return self._retry_supplied(now)

    def retry_unmatched(self, neighbourhood: str, now: datetime) -> Outgoing:
        """Supply changed in the neighbourhood: ask its escalated requests again.

        A request is asked again only while it has not started and some eligible helper has
        not yet been offered it: it then gets a whole new cascade (new rounds, the same
        rules), from the best of those helpers. The others stay with operators and nothing
        is published for them, so a change that helps nobody costs one ranking per waiting
        request and no noise.
        """
        waiting = self.state.unmatched_in(neighbourhood)
        if not waiting:
            return []
        keep: list[uuid.UUID] = []
        again: list[Progress] = []
        for request_id in waiting:
            progress = self.state.progress_of(neighbourhood, request_id)
            if progress is None or progress.status is not Status.UNMATCHED:
                continue  # booked, cancelled or asked anew since
            if progress.request.starts_at <= now:
                continue  # too late to help: operators have it
            _, ranked = self.ranked(progress.request)
            if any(c.helper_id not in progress.tried for c in ranked):
                again.append(progress)
            else:
                keep.append(request_id)
        self.state.put_unmatched(neighbourhood, keep)
        outgoing: Outgoing = []
        for progress in again:
            log.info("escalated request asked again", request_id=str(progress.request.request_id))
            outgoing += self._advance(retried(progress), now)
        return outgoing

    def forget_standing(self, person_id: uuid.UUID) -> None:
        """Apply trust's tombstone of a person's standing (their account was deleted)."""
        self.state.forget_standing(person_id)

    def handle_partner(self, data: Payload) -> None:
        """Apply a partner event (a table every worker sees).

        Only a service's announcement matters here: referrals and a service's answers reach
        matching as the requests and bookings booking makes of them, so they are ignored.
        """
        if isinstance(data, PartnerServiceChanged):
            service = PartnerService(
                partner_id=data.partner_id,
                name=data.name,
                helper_id=data.helper_id,
                skills=frozenset(data.skills),
                neighbourhoods=frozenset(data.neighbourhoods),
                active=data.active,
            )
            self.state.put_partner_service(service)

    def round_due(self, due: DueRound, now: datetime) -> Outgoing:
        """Move a request whose round ran out of time to its next round."""
        progress = self.state.progress_of(due.neighbourhood, due.request_id)
        if progress is None or progress.round != due.round or not progress.is_due(now):
            return []  # already moved on (a repeated or late tick)
        return self._advance(progress, now)

    def due_rounds(self, now: datetime, owns: set[int]) -> list[DueRound]:
        """Rounds that have run out of time on the partitions in ``owns``."""
        due: list[DueRound] = []
        for neighbourhood, request_id in self.state.due_by(now):
            progress = self.state.progress_of(neighbourhood, request_id)
            if progress is not None and progress.partition in owns and progress.is_due(now):
                due.append(DueRound(neighbourhood, request_id, progress.round))
        return due

    def _profile(self, data: PersonProfileChanged) -> None:
        profile = HelperProfile(
            person_id=data.person_id,
            display_name=data.display_name,
            cell=data.cell,
            skills=frozenset(data.skills),
            travel_radius_km=data.travel_radius_km,
            weekly_hour_cap=data.weekly_hour_cap,
            languages=normalised(data.languages),
        )
        self._file(ProfileFact(data.person_id, data.neighbourhood, profile))

    def _series_changed(self, data: SeriesChanged) -> None:
        """Booking's word on a series: its regular, and who stepped back from it."""
        series = self.state.series_of(data.neighbourhood, data.series_id)
        changed = replace(
            series,
            regular=data.regular_helper_id,
            stepped_back=tuple(data.stepped_back_helper_ids),
        )
        self.state.put_series(data.neighbourhood, data.series_id, changed)

    def _relationship(self, data: RelationshipChanged) -> None:
        relationship = Relationship(
            helper_id=data.helper_id,
            neighbour_id=data.neighbour_id,
            stage=data.stage,
            visits=data.visits,
            both_want_again=data.both_want_again,
            matchable=data.matchable,
        )
        self.state.put_relationship(data.neighbourhood, relationship)
        self._file(VisitsFact(data.helper_id, data.neighbour_id, data.visits))

    def _requested(
        self, envelope: Envelope[Payload], data: HelpRequested, partition: int, now: datetime
    ) -> Outgoing:
        known = self.state.progress_of(data.neighbourhood, data.request_id)
        if known is not None and known.status is Status.OPEN:
            if is_new_ask(known, envelope.event_id):
                # Asked again before the booking that closed it reached us: take it up then.
                self.state.put_progress(replace(known, pending_ask=envelope.event_id))
            # A redelivery: publish the current round again with the same ids (consumers
            # dedupe by offer id), so offers lost in a crash are not lost for good.
            return wrap(known, list(known.offers))
        if known is not None:
            if not is_new_ask(known, envelope.event_id):
                return []  # the settled ask delivered again
            # Booking asks for a settled request again when its helper cancelled, a
            # suspension held the visit, or a reinstated neighbour's request reopened: it
            # is offered at once, to anyone but the helper who was booked.
            reopened = asked_again(known, data, envelope.event_id, envelope.correlation_id)
            return self._advance(reopened, now)
        progress = Progress(
            request=data,
            event_id=envelope.event_id,
            correlation_id=envelope.correlation_id,
            partition=partition,
        )
        if data.recurring:
            series = self.state.series_of(data.neighbourhood, data.series_id)
            if not series.helpers and self._lead_open(data.neighbourhood, series):
                # Booking sends every occurrence of a series at once. Matching them all at
                # once would scatter them over several helpers; the later ones wait for the
                # lead's helper instead, for at most the lead's whole cascade.
                waiting = replace(progress, due_at=now + self._series_wait())
                self.state.put_progress(waiting)
                self.state.put_series(
                    data.neighbourhood,
                    data.series_id,
                    replace(series, waiting=(*series.waiting, data.request_id)),
                )
                return []
            if not series.helpers:
                self.state.put_series(
                    data.neighbourhood, data.series_id, replace(series, lead=data.request_id)
                )
        return self._advance(progress, now)

    def _series_wait(self) -> timedelta:
        policy = self.policy
        return timedelta(seconds=policy.regular_hold_s + policy.cascade_rounds * policy.offer_ttl_s)

    def _lead_open(self, neighbourhood: str, series: SeriesState) -> bool:
        if series.lead is None:
            return False
        lead = self.state.progress_of(neighbourhood, series.lead)
        return lead is not None and lead.status is Status.OPEN

    def faces(self, request: HelpRequested) -> SeriesFaces:
        """Who already helps with the request's series (nobody for a one-off request)."""
        if not request.recurring:
            return SeriesFaces()
        return faces_of(self.state.series_of(request.neighbourhood, request.series_id))

    def ranked(self, request: HelpRequested) -> tuple[list[HelperView], list[Candidate]]:
        """The helpers filed in the request's neighbourhood and its eligible candidates."""
        faces = self.faces(request)
        views = self.views(request)
        ranked = rank(
            views,
            request,
            width=self.policy.cascade_width,
            series=faces,
            partners=self.partner_views(request),
        )
        return views, ranked

    def _note_unmatched(self, request: HelpRequested) -> None:
        """Remember an escalated request, to ask it again when supply changes."""
        waiting = self.state.unmatched_in(request.neighbourhood)
        if request.request_id not in waiting:
            self.state.put_unmatched(request.neighbourhood, [*waiting, request.request_id])

    def _advance(self, progress: Progress, now: datetime) -> Outgoing:
        request = progress.request
        views, ranked = self.ranked(request)
        advanced, events = next_round(progress, ranked, self.policy, now)
        self.store_progress(progress, advanced)
        if advanced.status is Status.UNMATCHED:
            self._note_unmatched(request)
        _explain(advanced, views, {c.helper_id for c in ranked})
        outgoing = wrap(advanced, events)
        if advanced.status is not Status.OPEN:
            outgoing += self._release_series(advanced, now)
        return outgoing

    def _release_series(self, settled: Progress, now: datetime) -> Outgoing:
        """The lead occurrence of a series is settled: start the occurrences waiting for it."""
        request = settled.request
        if not request.recurring:
            return []
        series = self.state.series_of(request.neighbourhood, request.series_id)
        if series.lead != request.request_id:
            return []
        self.state.put_series(
            request.neighbourhood, request.series_id, replace(series, lead=None, waiting=())
        )
        outgoing: Outgoing = []
        for request_id in series.waiting:
            waiting = self.state.progress_of(request.neighbourhood, request_id)
            if waiting is not None and waiting.status is Status.OPEN and waiting.round == 0:
                outgoing += self._advance(waiting, now)
        return outgoing

    def views(self, request: HelpRequested) -> list[HelperView]:
        """Helpers filed in the request's neighbourhood: every helper whose radius reaches a
        street of it, wherever they live (``filing``). Cost follows local density."""
        relationships = self.state.relationships_of(request.neighbourhood, request.neighbour_id)
        views: list[HelperView] = []
        # Two of eligibility's rules, from the roster alone: a neighbourhood holds every
        # helper whose radius reaches any of its streets, and most offer other skills or
        # live too far from this street. Reading their whole state cost most of a request.
        candidates = self.state.candidates(request.neighbourhood, request.skill, request.cell)
        for person_id in candidates:
            helper = self.state.helper(request.neighbourhood, person_id)
            if helper.profile is None:
                continue
            views.append(
                HelperView(
                    profile=helper.profile,
                    free_hours=self.state.offered_hours(helper),
                    bookings=tuple(helper.bookings.values()),
                    standing=self.state.standing_of(person_id),
                    relationship=relationships.get(person_id),
                    visits_ever=sum(helper.visits.values()),
                    held=tuple(
                        Hold(request_id, visit.starts_at, visit.hours)
                        for request_id, visit in helper.holds.items()
                    ),
                )
            )
        return views

    def partner_views(self, request: HelpRequested) -> list[PartnerView]:
        """Every partner's service with trust's word on it; the domain decides which fit."""
        relationships = self.state.relationships_of(request.neighbourhood, request.neighbour_id)
        return [
            PartnerView(
                service=service,
                standing=self.state.standing_of(service.helper_id),
                relationship=relationships.get(service.helper_id),
            )
            for service in self.state.partner_services_all()
        ]

    def _booked(self, data: BookingConfirmed, now: datetime) -> Outgoing:
        visit = BookedVisit(starts_at=data.starts_at, hours=data.hours)
        self._file(BookedFact(data.helper_id, data.booking_id, visit))
        progress = self.state.progress_of(data.neighbourhood, data.request_id)
        if progress is not None and progress.request.recurring:
            series_id = progress.request.series_id
            series = self.state.series_of(data.neighbourhood, series_id)
            if data.helper_id not in series.helpers:
                faces = replace(series, helpers=(*series.helpers, data.helper_id))
                self.state.put_series(data.neighbourhood, series_id, faces)
        return self._close(data.neighbourhood, data.request_id, Status.BOOKED, now, data.helper_id)

    def _close(
        self,
        neighbourhood: str,
        request_id: uuid.UUID,
        status: Status,
        now: datetime,
        helper_id: uuid.UUID | None = None,
    ) -> Outgoing:
        progress = self.state.progress_of(neighbourhood, request_id)
        if progress is None or progress.status is not Status.OPEN:
            return []
        settled = closed(progress, status, helper_id)
        self.store_progress(progress, settled)
        outgoing = self._release_series(settled, now)
        if status is Status.BOOKED and settled.pending_ask is not None:
            again = asked_again(
                settled, settled.request, settled.pending_ask, settled.correlation_id
            )
            outgoing += self._advance(again, now)
        return outgoing

    def store_progress(self, before: Progress, after: Progress) -> None:
        """Store a request's progress, and hold or free its regular helper's hours."""
        self.state.put_progress(after)
        held, holding = before.held_helper(), after.held_helper()
        if held == holding:
            return
        request = after.request
        if held is not None:
            self._file(UnheldFact(held, request.request_id))
        if holding is not None:
            visit = BookedVisit(starts_at=request.starts_at, hours=request.hours)
            self._file(HeldFact(holding, request.request_id, visit))

    def _declined(self, data: OfferDeclined, now: datetime) -> Outgoing:
        progress = self.state.progress_of(data.neighbourhood, data.request_id)
        if progress is None:
            return []
        updated, round_over = declined(progress, data.offer_id)
        if not round_over:
            self.state.put_progress(updated)
            return []
        return self._advance(updated, now)


def weekly_hours(data: AvailabilityChangedV2) -> WeeklyHours:
    """The event's rules and exceptions as the value matching asks about each hour."""
    return WeeklyHours(
        time_zone=data.time_zone,
        rules=tuple(WeeklyRule(r.weekday, r.start_hour, r.end_hour) for r in data.rules),
        away=tuple(Away(a.first_day, a.last_day) for a in data.away),
        extra=tuple(ExtraHours(e.day, e.start_hour, e.end_hour) for e in data.extra),
    )


def faces_of(series: SeriesState) -> SeriesFaces:
    """Who a series' occurrence goes to first: its regular (the helper who took it on, or else
    the first booked for it), then others who helped with it; never one who stepped back."""
    gone = frozenset(series.stepped_back)
    helpers = [helper for helper in series.helpers if helper not in gone]
    lead = series.regular if series.regular not in gone else None
    if lead is None and helpers and not series.stepped_back:
        lead = helpers[0]
    return SeriesFaces(
        helper_id=lead,
        familiar=frozenset(h for h in helpers if h != lead),
        stepped_back=gone,
    )


def wrap(progress: Progress, events: list[OfferMade | RequestUnmatched]) -> Outgoing:
    """Envelopes caused by the request, with ids fixed by what they say (replays match)."""
    wrapped: Outgoing = []
    for event in events:
        if isinstance(event, OfferMade):
            identity = f"offer:{event.offer_id}"
        elif progress.first_round or progress.retries:
            # An escalation of a later ask is news: a repeated id would be taken for the
            # first escalation delivered again, and operators would never see it. (A retry
            # of a request escalated before any round starts from round 0 again.)
            identity = f"unmatched:{event.request_id}:{progress.first_round}"
            if progress.retries:
                identity += f":retry{progress.retries}"
        else:
            identity = f"unmatched:{event.request_id}"
        wrapped.append(
            Envelope.wrap(
                event,
                producer=PRODUCER,
                correlation_id=progress.correlation_id,
                causation_id=progress.event_id,
                event_id=uuid.uuid5(_EVENT_NAMESPACE, identity),
            )
        )
    return wrapped


def _explain(progress: Progress, views: list[HelperView], ranked: set[uuid.UUID]) -> None:
    """Log the round just decided, with why each helper of the neighbourhood was left out.

    An escalation is an operator's business (info); an ordinary round is for debugging. The
    reasons cost as much as the ranking, so they are worked out only when the line is kept.
    """
    unmatched = progress.status is Status.UNMATCHED
    if not _stdlib_log.isEnabledFor(logging.INFO if unmatched else logging.DEBUG):
        return
    request = progress.request
    passed_over = {
        str(view.profile.person_id): why_ineligible(view, request)
        for view in views
        if view.profile.person_id not in ranked
    }
    offered = [str(offer.helper_id) for offer in progress.offers]
    emit = log.info if unmatched else log.debug
    emit(
        "request unmatched" if unmatched else "round opened",
        request_id=str(request.request_id),
        round=progress.round,
        offered=offered,
        passed_over=passed_over,
    )
