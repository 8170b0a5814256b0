"""Building the events trust consumes, with fresh ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.contracts import Envelope, pair_key
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    Side,
    VisitCompleted,
    VisitNoShow,
)
from shared.contracts.people import PersonProfileChanged
from shared.contracts.skills import Skill, VettingStep
from shared.contracts.trust import (
    AsAgreed,
    CheckInSubmitted,
    ConcernOutcome,
    ConcernRaised,
    ConcernResolved,
    RaisedBy,
    SeeAgain,
    VettingStepRecorded,
)


def on_the_hour(days_ago: int = 1) -> datetime:
    """A visit start on the hour, ``days_ago`` days back."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(days=days_ago)


@dataclass(frozen=True)
class Pair:
    """Two fresh people, one booking between them, in one neighbourhood."""

    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: str
    booking_id: uuid.UUID
    request_id: uuid.UUID
    starts_at: datetime

    @classmethod
    def new(cls, neighbourhood: str) -> Pair:
        return cls(
            uuid.uuid4(), uuid.uuid4(), neighbourhood, uuid.uuid4(), uuid.uuid4(), on_the_hour()
        )

    @property
    def pair_id(self) -> str:
        return pair_key(self.helper_id, self.neighbour_id)

    def _visit(self) -> dict[str, object]:
        return {
            "booking_id": self.booking_id,
            "request_id": self.request_id,
            "helper_id": self.helper_id,
            "neighbour_id": self.neighbour_id,
            "neighbourhood": self.neighbourhood,
            "skill": Skill.COMPANY,
            "starts_at": self.starts_at,
            "hours": 2,
        }

    def confirmed(self) -> Envelope[BookingConfirmed]:
        return Envelope.wrap(
            BookingConfirmed(offer_id=uuid.uuid4(), **self._visit()),
            producer="test",
        )

    def completed(self) -> Envelope[VisitCompleted]:
        return Envelope.wrap(VisitCompleted(**self._visit()), producer="test")

    def cancelled(self, by: Side, *, late: bool = False) -> Envelope[BookingCancelled]:
        payload = BookingCancelled(
            cancelled_by=by,
            late=late,
            **{**self._visit(), "booking_id": uuid.uuid4()},
        )
        return Envelope.wrap(payload, producer="test")

    def no_show(self, absent: Side) -> Envelope[VisitNoShow]:
        reporter = Side.NEIGHBOUR if absent is Side.HELPER else Side.HELPER
        return Envelope.wrap(
            VisitNoShow(absent=absent, reported_by=reporter, **self._visit()), producer="test"
        )

    def checkin(self, author: uuid.UUID, see_again: SeeAgain) -> Envelope[CheckInSubmitted]:
        about = self.neighbour_id if author == self.helper_id else self.helper_id
        payload = CheckInSubmitted(
            checkin_id=uuid.uuid4(),
            booking_id=self.booking_id,
            author_id=author,
            about_id=about,
            helper_id=self.helper_id,
            neighbour_id=self.neighbour_id,
            neighbourhood=self.neighbourhood,
            see_again=see_again,
            as_agreed=AsAgreed.YES,
        )
        return Envelope.wrap(payload, producer="test")


def vetting_step(
    person_id: uuid.UUID, step: VettingStep, skills: list[Skill] | None = None
) -> Envelope[VettingStepRecorded]:
    payload = VettingStepRecorded(
        person_id=person_id, step=step, recorded_by="operator:test", skills_offered=skills or []
    )
    return Envelope.wrap(payload, producer="test")


def profile(
    person_id: uuid.UUID, neighbourhood: str, skills: list[Skill]
) -> Envelope[PersonProfileChanged]:
    payload = PersonProfileChanged(
        person_id=person_id,
        display_name="Test Person",
        neighbourhood=neighbourhood,
        cell="89195da49a3ffff",
        skills=skills,
        travel_radius_km=2,
        weekly_hour_cap=5,
    )
    return Envelope.wrap(payload, producer="test")


def concern(about_id: uuid.UUID, raised_by_id: uuid.UUID | None = None) -> Envelope[ConcernRaised]:
    payload = ConcernRaised(
        concern_id=uuid.uuid4(),
        about_id=about_id,
        raised_by_id=raised_by_id,
        raised_by_role=RaisedBy.OPERATOR if raised_by_id is None else RaisedBy.PERSON,
    )
    return Envelope.wrap(payload, producer="test")


def resolution(raised: ConcernRaised, outcome: ConcernOutcome) -> Envelope[ConcernResolved]:
    payload = ConcernResolved(
        concern_id=raised.concern_id,
        about_id=raised.about_id,
        outcome=outcome,
        resolved_by="operator:test",
    )
    return Envelope.wrap(payload, producer="test")
