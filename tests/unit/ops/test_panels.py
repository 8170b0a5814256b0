"""The console's panels from a ledger of events: who waits, open concerns, and the figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.ops.domain import Ledger, figures, open_concerns, waiting
from services.ops.domain.panels import gini, percentile
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import BookingCancelled, BookingConfirmed, OfferDeclined, Side
from shared.contracts.people import PersonProfileChanged
from shared.contracts.requests import (
    HelpRequestCancelled,
    HelpRequested,
    OfferMade,
    RequestUnmatched,
)
from shared.contracts.skills import Skill
from shared.contracts.trust import (
    ConcernOutcome,
    ConcernRaised,
    ConcernResolved,
    RaisedBy,
    RelationshipChanged,
    RelationshipStage,
)
from shared.geo import cell_of, neighbourhood_of_cell

NOW = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
CELL = cell_of(51.545, -0.0553)
PLACE = neighbourhood_of_cell(CELL)
TOMORROW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class World:
    """A ledger and the events fed to it, each at a chosen time."""

    def __init__(self) -> None:
        self.ledger = Ledger()

    def at(self, when: datetime, payload: Payload) -> None:
        self.ledger.apply(Envelope.wrap(payload, producer="test", occurred_at=when))

    def request(
        self,
        when: datetime,
        *,
        neighbour: uuid.UUID | None = None,
        series: uuid.UUID | None = None,
        occurrence: int = 1,
        starts_at: datetime = TOMORROW,
    ) -> HelpRequested:
        data = HelpRequested(
            request_id=uuid.uuid4(),
            series_id=series or uuid.uuid4(),
            occurrence=occurrence,
            occurrences=max(occurrence, 4),
            neighbour_id=neighbour or uuid.uuid4(),
            neighbourhood=PLACE,
            cell=CELL,
            skill=Skill.COMPANY,
            starts_at=starts_at,
            hours=2,
        )
        self.at(when, data)
        return data

    def offer(self, when: datetime, request: HelpRequested, helper: uuid.UUID, round_: int) -> None:
        self.at(
            when,
            OfferMade(
                offer_id=uuid.uuid4(),
                request_id=request.request_id,
                helper_id=helper,
                neighbour_id=request.neighbour_id,
                neighbourhood=PLACE,
                skill=request.skill,
                starts_at=request.starts_at,
                hours=request.hours,
                round=round_,
                expires_at=when + timedelta(minutes=15),
            ),
        )

    def book(self, when: datetime, request: HelpRequested, helper: uuid.UUID) -> uuid.UUID:
        booking = uuid.uuid4()
        self.at(
            when,
            BookingConfirmed(
                booking_id=booking,
                request_id=request.request_id,
                helper_id=helper,
                neighbour_id=request.neighbour_id,
                neighbourhood=PLACE,
                skill=request.skill,
                starts_at=request.starts_at,
                hours=request.hours,
                offer_id=uuid.uuid4(),
            ),
        )
        return booking


def test_waiting_lists_escalations_first_then_the_longest_waiting() -> None:
    world = World()
    helper_a, helper_b = uuid.uuid4(), uuid.uuid4()
    old = world.request(NOW - timedelta(hours=3))
    world.offer(NOW - timedelta(hours=3), old, helper_a, 1)
    world.at(
        NOW - timedelta(hours=2),
        OfferDeclined(
            offer_id=uuid.uuid4(),
            request_id=old.request_id,
            helper_id=helper_a,
            neighbourhood=PLACE,
        ),
    )
    escalated = world.request(NOW - timedelta(minutes=30))
    world.offer(NOW - timedelta(minutes=29), escalated, helper_b, 1)
    world.at(
        NOW - timedelta(minutes=5),
        RequestUnmatched(
            request_id=escalated.request_id,
            neighbour_id=escalated.neighbour_id,
            neighbourhood=PLACE,
            skill=escalated.skill,
            starts_at=escalated.starts_at,
            rounds=4,
            tried_helper_ids=[helper_b],
            reason="nobody free",
        ),
    )
    booked = world.request(NOW - timedelta(hours=5))
    world.book(NOW - timedelta(hours=4), booked, uuid.uuid4())
    cancelled = world.request(NOW - timedelta(hours=6))
    world.at(NOW, HelpRequestCancelled(request_id=cancelled.request_id, neighbourhood=PLACE))
    world.request(NOW - timedelta(days=2), starts_at=NOW - timedelta(hours=3))  # already over

    rows = waiting(world.ledger, NOW)

    assert [row.request_id for row in rows] == [escalated.request_id, old.request_id]
    first, second = rows
    assert first.status == "escalated"
    assert first.rounds == 4
    assert first.reason == "nobody free"
    assert first.tried == [(helper_b, False)]
    assert first.waiting_s == 30 * 60
    assert second.status == "matching"
    assert second.tried == [(helper_a, True)]


def test_a_request_asked_for_again_after_its_visit_was_called_off_waits_again() -> None:
    world = World()
    helper = uuid.uuid4()
    asked = world.request(NOW - timedelta(hours=3))
    booking = world.book(NOW - timedelta(hours=2), asked, helper)
    # A suspension held the visit: booking calls it off and asks for the request again.
    world.at(
        NOW - timedelta(hours=1),
        BookingCancelled(
            booking_id=booking,
            request_id=asked.request_id,
            helper_id=helper,
            neighbour_id=asked.neighbour_id,
            neighbourhood=PLACE,
            skill=asked.skill,
            starts_at=asked.starts_at,
            hours=asked.hours,
            cancelled_by=Side.HELPER,
            late=False,
        ),
    )
    world.at(NOW - timedelta(hours=1), asked)
    assert [row.request_id for row in waiting(world.ledger, NOW)] == [asked.request_id]
    # Booked anew, it waits no more; an ask older than the booking (read late from its
    # own stream) does not bring it back.
    world.book(NOW - timedelta(minutes=30), asked, uuid.uuid4())
    world.at(NOW - timedelta(hours=3), asked)
    assert waiting(world.ledger, NOW) == []


def test_a_request_asked_for_again_waits_when_its_first_booking_is_read_after_the_ask() -> None:
    world = World()
    asked = world.request(NOW - timedelta(hours=3))
    # The requests stream is read ahead of the bookings stream: the ask made after the visit
    # was called off arrives before the booking it followed.
    world.at(NOW - timedelta(hours=1), asked)
    world.book(NOW - timedelta(hours=2), asked, uuid.uuid4())
    assert [row.request_id for row in waiting(world.ledger, NOW)] == [asked.request_id]
    # Its next booking ends the wait.
    world.book(NOW - timedelta(minutes=30), asked, uuid.uuid4())
    assert waiting(world.ledger, NOW) == []


def test_concerns_stay_open_until_resolved_oldest_first() -> None:
    world = World()
    about = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(3)]
    for minutes, concern in zip((5, 50, 20), ids, strict=True):
        world.at(
            NOW - timedelta(minutes=minutes),
            ConcernRaised(concern_id=concern, about_id=about, raised_by_role=RaisedBy.PERSON),
        )
    world.at(
        NOW,
        ConcernResolved(
            concern_id=ids[2],
            about_id=about,
            outcome=ConcernOutcome.REINSTATE,
            resolved_by="operator",
        ),
    )

    assert [c.concern_id for c in open_concerns(world.ledger)] == [ids[1], ids[0]]


def test_figures_count_requests_per_hour_matches_and_time_to_match() -> None:
    world = World()
    helper = uuid.uuid4()
    for minutes in (1, 20, 29):  # this hour (it began 30 minutes ago)
        request = world.request(NOW - timedelta(minutes=minutes))
    world.book(NOW, request, helper)  # the last one, 29 minutes after it was made
    earlier = world.request(NOW - timedelta(hours=2, minutes=10))
    world.book(NOW - timedelta(hours=2), earlier, helper)  # 10 minutes
    lost = world.request(NOW - timedelta(hours=23, minutes=20))  # the first hour shown
    world.at(
        NOW - timedelta(hours=20),
        RequestUnmatched(
            request_id=lost.request_id,
            neighbour_id=lost.neighbour_id,
            neighbourhood=PLACE,
            skill=lost.skill,
            starts_at=lost.starts_at,
            rounds=4,
            reason="nobody free",
        ),
    )
    world.request(NOW - timedelta(days=2))  # before the chart

    result = figures(world.ledger, NOW)

    assert len(result.requests_per_hour) == 24
    assert result.requests_per_hour[-1] == 3
    assert result.requests_per_hour[-3] == 1
    assert result.requests_per_hour[0] == 1
    assert sum(result.requests_per_hour) == 5
    assert (result.matched, result.unmatched) == (2, 1)
    assert result.share_matched == pytest.approx(2 / 3)
    assert result.median_time_to_match_s == pytest.approx((10 + 29) / 2 * 60)
    assert result.escalated == 1


def test_continuity_counts_recurring_visits_kept_with_the_regular_helper() -> None:
    world = World()
    regular, stranger = uuid.uuid4(), uuid.uuid4()
    neighbour, series = uuid.uuid4(), uuid.uuid4()
    visits = [
        world.request(NOW - timedelta(days=3), neighbour=neighbour, series=series, occurrence=n)
        for n in (1, 2, 3)
    ]
    world.book(NOW - timedelta(days=3), visits[0], regular)  # the first: nobody to keep
    world.book(NOW - timedelta(days=2), visits[1], regular)  # kept with the series' helper
    world.book(NOW - timedelta(days=1), visits[2], stranger)  # broken
    # Another neighbour whose regular (by trust's record) is booked for a one-off request.
    other = uuid.uuid4()
    world.at(
        NOW - timedelta(days=5),
        RelationshipChanged(
            pair_id=f"{min(str(regular), str(other))}:{max(str(regular), str(other))}",
            helper_id=regular,
            neighbour_id=other,
            neighbourhood=PLACE,
            stage=RelationshipStage.REGULAR,
            visits=3,
            hours_together=6,
            both_want_again=True,
            matchable=True,
        ),
    )
    world.book(NOW, world.request(NOW, neighbour=other), regular)

    result = figures(world.ledger, NOW)

    assert (result.with_regular, result.recurring_visits) == (2, 3)
    assert result.continuity == pytest.approx(2 / 3)


def test_hours_spread_counts_idle_helpers_and_ignores_cancelled_visits() -> None:
    world = World()
    busy, idle = uuid.uuid4(), uuid.uuid4()
    for person in (busy, idle):
        world.at(
            NOW - timedelta(days=30),
            PersonProfileChanged(
                person_id=person,
                display_name="Sam",
                neighbourhood=PLACE,
                cell=CELL,
                skills=[Skill.COMPANY],
                travel_radius_km=2,
                weekly_hour_cap=10,
            ),
        )
    request = world.request(NOW - timedelta(days=1))
    world.book(NOW - timedelta(days=1), request, busy)
    dropped = world.request(NOW - timedelta(days=1))
    booking = world.book(NOW - timedelta(days=1), dropped, busy)
    world.at(
        NOW,
        BookingCancelled(
            booking_id=booking,
            request_id=dropped.request_id,
            helper_id=busy,
            neighbour_id=dropped.neighbour_id,
            neighbourhood=PLACE,
            skill=dropped.skill,
            starts_at=dropped.starts_at,
            hours=dropped.hours,
            cancelled_by=Side.HELPER,
            late=False,
        ),
    )

    spread = figures(world.ledger, NOW).hours

    assert spread.helpers == 2
    assert spread.most == 2
    assert spread.p50 == 1.0
    assert spread.gini == pytest.approx(0.5)
    assert dict(spread.histogram)["0"] == 1
    assert dict(spread.histogram)["1-2"] == 1


def test_percentile_and_gini() -> None:
    assert percentile([], 0.5) == 0.0
    assert percentile([0, 10], 0.5) == 5.0
    assert percentile([1, 2, 3, 4, 5], 0.9) == pytest.approx(4.6)
    assert gini([0, 0]) is None
    assert gini([3, 3, 3]) == 0.0
    assert gini([0, 0, 0, 12]) == pytest.approx(0.75)


def test_old_requests_and_bookings_are_forgotten() -> None:
    world = World()
    old = world.request(NOW - timedelta(days=40))
    world.book(NOW - timedelta(days=40), old, uuid.uuid4())
    recent = world.request(NOW - timedelta(days=1))

    world.ledger.forget_before(NOW - timedelta(days=30))

    assert set(world.ledger.requests) == {recent.request_id}
    assert world.ledger.bookings == {}
