"""Replaying a synthetic week through the real matcher, and through a greedy baseline.

The replay plays the booking service and the helpers: it feeds matching's real handlers
(``Matcher`` over in-memory tables, so eligibility, ranking, the cascade and series all run
as in production) with the events booking and trust would send, answers each offer as the
world says that helper would, books the first yes, and lets unanswered offers lapse.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kith.matching_simulation.world import Need, World
from services.matching.domain import BookedVisit, HelperView, Policy, is_eligible
from services.matching.domain.model import hours_of
from services.matching.handlers import Matcher
from services.matching.state import MatchingState
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import BookingConfirmed, OfferDeclined
from shared.contracts.people import AvailabilityChanged, PersonProfileChanged
from shared.contracts.requests import OfferMade
from shared.contracts.trust import RelationshipChanged, StandingChanged
from shared.geo import neighbourhood_of_cell


@dataclass(frozen=True, slots=True)
class Booking:
    """One request booked to one helper."""

    need: Need
    helper_id: uuid.UUID
    booked_at: datetime


@dataclass(slots=True)
class Outcome:
    """What a strategy did with the week.

    Attributes:
        bookings: Request index -> its booking.
        regular_free: Indexes of recurring requests whose regular was free (eligible) when
            the request was matched.
    """

    bookings: dict[int, Booking] = field(default_factory=dict)
    regular_free: set[int] = field(default_factory=set)


_Event = tuple[datetime, int, str, object]


class _Replay:
    def __init__(self, world: World, policy: Policy) -> None:
        self.world = world
        self.policy = policy
        self.matcher = Matcher(MatchingState.in_memory(), policy)
        self.queue: list[_Event] = []
        self.order = itertools.count()
        self.outcome = Outcome()
        self.needs = {n.request.request_id: n for n in world.needs}
        self.taken: dict[uuid.UUID, list[BookedVisit]] = {}
        self.rng = random.Random(world.shape.seed + 1)

    def at(self, when: datetime, kind: str, item: object) -> None:
        heapq.heappush(self.queue, (when, next(self.order), kind, item))

    def send(self, payload: Payload, now: datetime) -> None:
        envelope = Envelope.wrap(payload, producer="simulation")
        for out in self.matcher.handle(envelope, 0, now):
            self.offered(out.data, now)

    def offered(self, data: Payload, now: datetime) -> None:
        if not isinstance(data, OfferMade):
            return  # escalated: an operator would step in; the request is not served
        need = self.needs[data.request_id]
        # Helpers answer within minutes; a no lapses at the offer's end half the time.
        delay = timedelta(minutes=self.rng.uniform(0.5, 0.6 * self.policy.offer_ttl_s / 60))
        if self.world.accepts(need, data.helper_id):
            self.at(now + delay, "accept", data)
        elif self.rng.random() < 0.5:
            self.at(now + delay, "decline", data)
        else:
            self.at(data.expires_at, "lapse", data)
        progress = self.matcher.state.progress_of(data.neighbourhood, data.request_id)
        if progress is not None and progress.due_at is not None:
            self.at(progress.due_at, "tick", None)

    def introduce(self, now: datetime) -> None:
        """What booking and trust publish before the week: profiles, hours, standing, pairs."""
        world = self.world
        for helper in world.helpers:
            profile = helper.profile
            hours = sorted(helper.free_hours)
            self.send(
                PersonProfileChanged(
                    person_id=profile.person_id,
                    display_name=profile.display_name,
                    neighbourhood=neighbourhood_of_cell(profile.cell),
                    cell=profile.cell,
                    skills=sorted(profile.skills),
                    travel_radius_km=profile.travel_radius_km,
                    weekly_hour_cap=profile.weekly_hour_cap,
                ),
                now,
            )
            self.send(
                AvailabilityChanged(
                    person_id=profile.person_id,
                    neighbourhood=neighbourhood_of_cell(profile.cell),
                    horizon_start=hours[0] if hours else now,
                    horizon_end=hours[-1] if hours else now,
                    free_hours=hours,
                ),
                now,
            )
            standing = world.standing(helper)
            self.matcher.handle_standing(
                StandingChanged(
                    person_id=profile.person_id,
                    suspended=False,
                    approved_skills=standing.approved_skills,
                ),
                now,
            )
        for pair in world.pairs.values():
            # Trust files a pair under the neighbour's neighbourhood (where they ask).
            self.send(
                RelationshipChanged(
                    pair_id=f"{pair.helper_id}:{pair.neighbour_id}",
                    helper_id=pair.helper_id,
                    neighbour_id=pair.neighbour_id,
                    neighbourhood=neighbourhood_of_cell(world.homes[pair.neighbour_id]),
                    stage=pair.stage,
                    visits=pair.visits,
                    hours_together=pair.visits,
                    both_want_again=pair.both_want_again,
                    matchable=pair.matchable,
                ),
                now,
            )

    def run(self) -> Outcome:
        if not self.world.needs:
            return self.outcome
        start = self.world.needs[0].posted_at - timedelta(hours=1)
        self.introduce(start)
        for need in self.world.needs:
            self.at(need.posted_at, "post", need)
        while self.queue:
            now, _, kind, item = heapq.heappop(self.queue)
            if kind == "post":
                assert isinstance(item, Need)
                self.post(item, now)
            elif kind == "accept":
                assert isinstance(item, OfferMade)
                self.accept(item, now)
            elif kind in {"decline", "lapse"}:
                assert isinstance(item, OfferMade)
                self.decline(item, now, expired=kind == "lapse")
            else:
                for due in self.matcher.due_rounds(now, owns={0}):
                    for out in self.matcher.round_due(due, now):
                        self.offered(out.data, now)
        return self.outcome

    def post(self, need: Need, now: datetime) -> None:
        if need.regular_id is not None:
            views = self.matcher.views(need.request)
            regular = next((v for v in views if v.profile.person_id == need.regular_id), None)
            if regular is not None and is_eligible(regular, need.request):
                self.outcome.regular_free.add(need.index)
        self.send(need.request, now)

    def accept(self, offer: OfferMade, now: datetime) -> None:
        need = self.needs[offer.request_id]
        if need.index in self.outcome.bookings or offer.expires_at <= now:
            return  # someone else was first, or the offer had lapsed: booking says conflict
        if not self.still_free(offer):
            self.decline(offer, now, expired=False)
            return
        self.taken.setdefault(offer.helper_id, []).append(BookedVisit(offer.starts_at, offer.hours))
        self.outcome.bookings[need.index] = Booking(need, offer.helper_id, now)
        self.send(
            BookingConfirmed(
                booking_id=uuid.uuid5(offer.offer_id, "booking"),
                request_id=offer.request_id,
                helper_id=offer.helper_id,
                neighbour_id=offer.neighbour_id,
                neighbourhood=offer.neighbourhood,
                skill=offer.skill,
                starts_at=offer.starts_at,
                hours=offer.hours,
                offer_id=offer.offer_id,
            ),
            now,
        )

    def still_free(self, offer: OfferMade) -> bool:
        """Booking's own check: the helper holds none of the hours and stays within the cap."""
        taken = self.taken.get(offer.helper_id, [])
        wanted = set(hours_of(offer.starts_at, offer.hours))
        if any(wanted & set(v.hours_covered()) for v in taken):
            return False
        cap = self.world.by_id[offer.helper_id].profile.weekly_hour_cap
        return sum(v.hours for v in taken) + offer.hours <= cap

    def decline(self, offer: OfferMade, now: datetime, *, expired: bool) -> None:
        if self.needs[offer.request_id].index in self.outcome.bookings:
            return
        self.send(
            OfferDeclined(
                offer_id=offer.offer_id,
                request_id=offer.request_id,
                helper_id=offer.helper_id,
                neighbourhood=offer.neighbourhood,
                expired=expired,
            ),
            now,
        )


def replay_matching(world: World, policy: Policy) -> Outcome:
    """Run the week through matching's real handlers, in the order requests are posted."""
    return _Replay(world, policy).run()


def replay_greedy(world: World) -> Outcome:
    """The baseline: each request, as posted, to the nearest free helper who says yes."""
    outcome = Outcome()
    taken: dict[uuid.UUID, list[BookedVisit]] = {}
    for need in world.needs:
        request = need.request
        views: list[tuple[float, HelperView]] = []
        for helper in world.helpers:
            view = world.view(helper, request)
            booked = tuple(taken.get(helper.profile.person_id, ()))
            view = HelperView(
                view.profile,
                view.free_hours,
                booked,
                view.standing,
                view.relationship,
                view.visits_ever,
            )
            if is_eligible(view, request):
                views.append((world.travel_km(need, helper.profile.person_id), view))
                if helper.profile.person_id == need.regular_id:
                    outcome.regular_free.add(need.index)
        views.sort(key=lambda pair: (pair[0], str(pair[1].profile.person_id)))
        for _, view in views:
            helper_id = view.profile.person_id
            if world.accepts(need, helper_id):
                taken.setdefault(helper_id, []).append(
                    BookedVisit(request.starts_at, request.hours)
                )
                outcome.bookings[need.index] = Booking(need, helper_id, need.posted_at)
                break
    return outcome
