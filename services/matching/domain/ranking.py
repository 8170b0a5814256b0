"""The order helpers are offered a request in, and the reasons each one is told."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from services.matching.domain.eligibility import hours_booked_in_week, is_eligible
from services.matching.domain.model import HelperView
from shared.contracts.requests import HelpRequested, Reason, ReasonCode
from shared.contracts.trust import RelationshipStage
from shared.geo import distance_km

_CONTINUING = frozenset({RelationshipStage.FIRST_VISIT, RelationshipStage.REGULAR})


class Tier(IntEnum):
    """How close a helper already is to the neighbour; lower is offered sooner."""

    #: The neighbour's regular helper, or the one they asked for: offered alone first.
    PRIORITY = 0
    #: Someone the neighbour has met and both want to see again.
    MET = 1
    #: Any other eligible helper nearby.
    NEARBY = 2


@dataclass(frozen=True, slots=True)
class Candidate:
    """An eligible helper, placed and explained."""

    helper_id: uuid.UUID
    tier: Tier
    distance_km: float
    hours_this_week: int
    visits_together: int
    newcomer: bool
    reasons: tuple[Reason, ...]


def rank(helpers: Iterable[HelperView], request: HelpRequested, *, width: int) -> list[Candidate]:
    """The eligible helpers for ``request``, best first.

    The preferred helper, then regular helpers (most visits first) come first; then helpers
    the neighbour has met; then nearby helpers with the fewest hours booked this week, nearest
    first, where each block of ``width`` (one cascade round) keeps a place for a newcomer so
    that people new to Kith get a fair turn.
    """
    candidates = [_place(h, request) for h in helpers if is_eligible(h, request)]
    preferred = request.preferred_helper_id

    def closeness(c: Candidate) -> tuple[int, int, int, float, str]:
        return (
            c.tier,
            c.helper_id != preferred,
            -c.visits_together,
            c.distance_km,
            str(c.helper_id),
        )

    def fairness(c: Candidate) -> tuple[int, float, str]:
        return (c.hours_this_week, c.distance_km, str(c.helper_id))

    known = sorted((c for c in candidates if c.tier is not Tier.NEARBY), key=closeness)
    nearby = [c for c in candidates if c.tier is Tier.NEARBY]
    established = sorted((c for c in nearby if not c.newcomer), key=fairness)
    newcomers = sorted((c for c in nearby if c.newcomer), key=fairness)
    return known + _interleave(established, newcomers, width)


def _interleave(
    established: list[Candidate], newcomers: list[Candidate], width: int
) -> list[Candidate]:
    """Merge by fairness, but give every block of ``width`` at least one newcomer if any wait."""
    merged: list[Candidate] = []
    while established or newcomers:
        block: list[Candidate] = []
        while len(block) < width and (established or newcomers):
            room = width - len(block)
            owes_newcomer = newcomers and not any(c.newcomer for c in block) and room == 1
            take_newcomer = bool(newcomers) and (
                owes_newcomer
                or not established
                or (newcomers[0].hours_this_week, newcomers[0].distance_km)
                < (established[0].hours_this_week, established[0].distance_km)
            )
            block.append(newcomers.pop(0) if take_newcomer else established.pop(0))
        merged.extend(block)
    return merged


def _place(helper: HelperView, request: HelpRequested) -> Candidate:
    relationship = helper.relationship
    helper_id = helper.profile.person_id
    distance = distance_km(helper.profile.cell, request.cell)
    week_hours = hours_booked_in_week(helper, request)
    visits = relationship.visits if relationship else 0
    newcomer = helper.visits_ever == 0
    reasons: list[Reason] = []
    wanted_again = relationship is not None and relationship.both_want_again
    if helper_id == request.preferred_helper_id:
        tier = Tier.PRIORITY
        reasons.append(
            Reason(code=ReasonCode.PREFERRED_BY_NEIGHBOUR, text="The neighbour asked for you")
        )
    elif relationship is not None and wanted_again and relationship.stage in _CONTINUING:
        tier = Tier.PRIORITY
    elif wanted_again:
        tier = Tier.MET
    else:
        tier = Tier.NEARBY
    if relationship is not None and wanted_again and relationship.stage in _CONTINUING:
        reasons.append(Reason(code=ReasonCode.REGULAR_HELPER, text=_visited(visits)))
    elif wanted_again:
        reasons.append(
            Reason(
                code=ReasonCode.MET_BEFORE,
                text="You have met this neighbour and both want to meet again",
            )
        )
    reasons.append(Reason(code=ReasonCode.NEARBY, text=f"{distance:.1f} km away"))
    reasons.append(
        Reason(
            code=ReasonCode.FEW_HOURS_THIS_WEEK,
            text=f"You have {week_hours} hour{'' if week_hours == 1 else 's'} booked this week",
        )
    )
    if newcomer:
        reasons.append(
            Reason(code=ReasonCode.NEWCOMER, text="New to Kith: your first visit awaits")
        )
    return Candidate(
        helper_id=helper_id,
        tier=tier,
        distance_km=distance,
        hours_this_week=week_hours,
        visits_together=visits,
        newcomer=newcomer,
        reasons=tuple(reasons),
    )


def _visited(visits: int) -> str:
    if visits == 0:
        return "This neighbour would like to see you again"
    return f"You have visited this neighbour {visits} time{'' if visits == 1 else 's'}"
