"""One record per pair of people, and the rules that move it between stages.

Every function here is pure: it takes a ``Relationship`` and returns the next one (the same
object when nothing changed), so the rules can be tested without a database or a broker.

Stages: ``introduced`` (a first booking) → ``first_visit`` (a completed visit) → ``regular``
(``regular_after_visits`` visits and both latest answers "yes") → ``paused`` (no visit for
``pause_after_days``; a new visit resumes) → ``ended`` (either person answered "no" to "see
again", or an operator removed one of them after a concern; terminal).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.contracts import pair_key
from shared.contracts.bookings import Side
from shared.contracts.trust import RelationshipStage, SeeAgain

Stage = RelationshipStage

# Pauses apply only to pairs that have met: an introduced pair may have its first visit
# booked weeks ahead, and that is not a relationship going quiet.
_PAUSABLE = frozenset({Stage.FIRST_VISIT, Stage.REGULAR})


@dataclass(frozen=True, slots=True)
class Rules:
    """The numbers the stage rules depend on (from settings)."""

    regular_after_visits: int = 3
    pause_after_days: int = 42


@dataclass(frozen=True, slots=True)
class Relationship:
    """Trust's record of two people. Roles are those of the pair's first booking.

    ``helper_see_again`` is the latest answer of the person in ``helper_id``, and so on: the
    answers are private and never published, only whether both are "yes".
    """

    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    neighbourhood: str
    stage: Stage = Stage.INTRODUCED
    visits: int = 0
    hours_together: int = 0
    first_visit_at: datetime | None = None
    last_visit_at: datetime | None = None
    cancellations_by_helper: int = 0
    cancellations_by_neighbour: int = 0
    no_shows_by_helper: int = 0
    no_shows_by_neighbour: int = 0
    helper_see_again: SeeAgain | None = None
    neighbour_see_again: SeeAgain | None = None

    @property
    def pair_id(self) -> str:
        """The pair's id, the same whichever way round the two people are given."""
        return pair_key(self.helper_id, self.neighbour_id)

    @property
    def both_want_again(self) -> bool:
        """Both people's latest answer to "see each other again?" is "yes" (never once ended)."""
        return (
            self.stage is not Stage.ENDED
            and self.helper_see_again is SeeAgain.YES
            and self.neighbour_see_again is SeeAgain.YES
        )

    @property
    def matchable(self) -> bool:
        """Whether matching may still bring these two together."""
        return self.stage is not Stage.ENDED


def introduce(helper_id: uuid.UUID, neighbour_id: uuid.UUID, neighbourhood: str) -> Relationship:
    """A new pair, introduced by its first booking."""
    if helper_id == neighbour_id:
        raise ValueError("a person cannot be paired with themselves")
    return Relationship(helper_id=helper_id, neighbour_id=neighbour_id, neighbourhood=neighbourhood)


def complete_visit(
    relationship: Relationship, *, at: datetime, hours: int, rules: Rules
) -> Relationship:
    """A visit happened: count it, and move the stage on (resuming a paused pair).

    An ended pair still counts the visit (it happened) but stays ended.
    """
    first = relationship.first_visit_at
    last = relationship.last_visit_at
    counted = replace(
        relationship,
        visits=relationship.visits + 1,
        hours_together=relationship.hours_together + hours,
        first_visit_at=at if first is None or at < first else first,
        last_visit_at=at if last is None or at > last else last,
    )
    if counted.stage is Stage.ENDED:
        return counted
    return replace(counted, stage=_progress(counted, rules))


def answer_see_again(
    relationship: Relationship, *, author_id: uuid.UUID, answer: SeeAgain, rules: Rules
) -> Relationship:
    """Record one person's latest "see again" answer; "no" from either side ends the pair."""
    if author_id == relationship.helper_id:
        answered = replace(relationship, helper_see_again=answer)
    elif author_id == relationship.neighbour_id:
        answered = replace(relationship, neighbour_see_again=answer)
    else:
        raise ValueError(f"{author_id} is not one of the pair {relationship.pair_id}")
    if answered.stage is Stage.ENDED:
        return answered
    if answer is SeeAgain.NO:
        return replace(answered, stage=Stage.ENDED)
    if answered.stage is Stage.PAUSED:
        return answered  # only a new visit resumes a paused pair
    return replace(answered, stage=_progress(answered, rules))


def cancel(relationship: Relationship, *, by: uuid.UUID) -> Relationship:
    """Count a cancelled visit against the person who cancelled it."""
    if by == relationship.helper_id:
        return replace(
            relationship, cancellations_by_helper=relationship.cancellations_by_helper + 1
        )
    if by == relationship.neighbour_id:
        return replace(
            relationship, cancellations_by_neighbour=relationship.cancellations_by_neighbour + 1
        )
    raise ValueError(f"{by} is not one of the pair {relationship.pair_id}")


def no_show(relationship: Relationship, *, absent: uuid.UUID) -> Relationship:
    """Count a visit the person ``absent`` did not turn up to."""
    if absent == relationship.helper_id:
        return replace(relationship, no_shows_by_helper=relationship.no_shows_by_helper + 1)
    if absent == relationship.neighbour_id:
        return replace(relationship, no_shows_by_neighbour=relationship.no_shows_by_neighbour + 1)
    raise ValueError(f"{absent} is not one of the pair {relationship.pair_id}")


def end(relationship: Relationship) -> Relationship:
    """End a pair for good (an operator removed one of them after a concern).

    Published like a "not again": ended and unmatchable, with no reason given.
    """
    if relationship.stage is Stage.ENDED:
        return relationship
    return replace(relationship, stage=Stage.ENDED)


def canceller(helper_id: uuid.UUID, neighbour_id: uuid.UUID, side: Side) -> uuid.UUID:
    """The person who cancelled a booking, from the side they were on in it."""
    return helper_id if side is Side.HELPER else neighbour_id


def pause_if_stale(relationship: Relationship, *, now: datetime, rules: Rules) -> Relationship:
    """Pause a pair that has met but had no visit for ``rules.pause_after_days``."""
    if relationship.stage not in _PAUSABLE or relationship.last_visit_at is None:
        return relationship
    if now - relationship.last_visit_at < timedelta(days=rules.pause_after_days):
        return relationship
    return replace(relationship, stage=Stage.PAUSED)


def stale_before(now: datetime, rules: Rules) -> datetime:
    """Pairs whose last visit is before this moment are due a pause."""
    return now - timedelta(days=rules.pause_after_days)


def _progress(relationship: Relationship, rules: Rules) -> Stage:
    # Regular is a present fact, not a medal: if an answer drops from "yes" the pair goes
    # back to first_visit, so matching stops giving it a regular's hold on offers.
    if relationship.visits >= rules.regular_after_visits and relationship.both_want_again:
        return Stage.REGULAR
    if relationship.visits >= 1:
        return Stage.FIRST_VISIT
    return Stage.INTRODUCED
