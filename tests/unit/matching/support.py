"""Helpers the matching unit tests share: a matcher over in-memory state, and events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.matching.domain import Policy
from services.matching.handlers import Matcher
from services.matching.state import MatchingState
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import (
    BookingConfirmed,
)
from shared.contracts.people import (
    AvailabilityChanged,
    PersonProfileChanged,
)
from shared.contracts.requests import (
    OfferMade,
)
from shared.contracts.skills import Skill
from shared.contracts.trust import StandingChanged
from tests.unit.matching.factories import NEIGHBOURHOOD, STARTS, near

NOW = datetime(2031, 3, 1, tzinfo=UTC)


POLICY = Policy(regular_hold_s=60, offer_ttl_s=300, cascade_width=2, cascade_rounds=3)


WEEK = timedelta(weeks=1)


def new_matcher() -> Matcher:
    return Matcher(MatchingState.in_memory(), POLICY)


def send(matcher: Matcher, payload: Payload, now: datetime = NOW) -> list[Payload]:
    return [e.data for e in matcher.handle(Envelope.wrap(payload, producer="test"), 0, now)]


def add_helper(
    matcher: Matcher, metres: float, weeks: int = 4, *, vetted: bool = True
) -> uuid.UUID:
    person_id = uuid.uuid4()
    hours = [STARTS + WEEK * w + timedelta(hours=h) for w in range(weeks) for h in range(-2, 4)]
    send(
        matcher,
        PersonProfileChanged(
            person_id=person_id,
            display_name="Helper",
            neighbourhood=NEIGHBOURHOOD,
            cell=near(metres),
            skills=[Skill.SHOPPING],
            travel_radius_km=5,
            weekly_hour_cap=10,
        ),
    )
    send(
        matcher,
        AvailabilityChanged(
            person_id=person_id,
            neighbourhood=NEIGHBOURHOOD,
            horizon_start=hours[0],
            horizon_end=hours[-1],
            free_hours=hours,
        ),
    )
    if vetted:
        matcher.handle_standing(
            StandingChanged(
                person_id=person_id,
                suspended=False,
                approved_skills={Skill.SHOPPING: STARTS + timedelta(days=365)},
            ),
            NOW,
        )
    return person_id


def book(offer: OfferMade) -> BookingConfirmed:
    return BookingConfirmed(
        booking_id=uuid.uuid4(),
        request_id=offer.request_id,
        helper_id=offer.helper_id,
        neighbour_id=offer.neighbour_id,
        neighbourhood=offer.neighbourhood,
        skill=offer.skill,
        starts_at=offer.starts_at,
        hours=offer.hours,
        offer_id=offer.offer_id,
    )


def offers_in(events: list[Payload]) -> list[OfferMade]:
    return [e for e in events if isinstance(e, OfferMade)]
