"""The order helpers are offered a request in, and the reasons each one is told."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from services.matching.domain.eligibility import hours_booked_in_week, is_eligible
from services.matching.domain.languages import shared, spoken
from services.matching.domain.model import HelperView
from services.matching.domain.partners import PartnerView, why_partner_ineligible
from shared.contracts.requests import HelpRequested, Reason, ReasonCode
from shared.contracts.trust import RelationshipStage
from shared.geo import distance_km

_CONTINUING = frozenset({RelationshipStage.FIRST_VISIT, RelationshipStage.REGULAR})
#: Fairness, in travel: each hour already booked this week counts as this much farther away.
#: Ordering by hours first sent work across the neighbourhood (1.3x the offline optimum's
#: travel in ``kith bench matching``); a price per hour still spreads work, but nearby. At
#: 0.15 km an hour matching travelled 1.145x the optimum (mean of seeds 7-12), at 0.06 km
#: 1.093x, for a hours Gini of 0.36-0.40 instead of 0.31-0.35 (the optimum's own: 0.39).
KM_PER_BOOKED_HOUR = 0.06
#: A round offered to strangers reaches only helpers about as near as its nearest one (within
#: this share and these km of its fair distance): the first yes wins a round, so a helper much
#: farther away would often beat a nearer one to it. Farther helpers get the next round. With
#: the round open to any of the best three, matching travelled 1.4x the offline optimum in
#: ``kith bench matching``; with this reach, about 1.1x, at about a minute more to match.
ROUND_REACH_RATIO = 1.1
ROUND_REACH_KM = 0.15
#: A helper who speaks a language of the neighbour's counts as this much nearer among
#: strangers, and goes first among people the neighbour knows equally well: enough to
#: prefer them across a street or two, not to send someone across the town.
KM_FOR_SHARED_LANGUAGE = 0.5


class Tier(IntEnum):
    """How close a helper already is to the neighbour; lower is offered sooner.

    Relationships come first, then a partner's service, then everyone else: a service that
    takes a class of requests (a lift service, say) is offered them before strangers, but
    never before someone the neighbour already knows.
    """

    #: The neighbour's regular helper, or the one they asked for: offered alone first.
    PRIORITY = 0
    #: Someone the neighbour has met and both want to see again.
    MET = 1
    #: A partner's service that takes this kind of request here: offered alone, in a round
    #: of its own.
    PARTNER = 2
    #: Any other eligible helper nearby.
    NEARBY = 3


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
    shares_language: bool = False


@dataclass(frozen=True, slots=True)
class SeriesFaces:
    """Who already helps with a recurring request's series.

    Attributes:
        helper_id: The series' helper: the first booked for one of its occurrences. They are
            offered every later occurrence first, like a regular.
        familiar: Others booked for an occurrence (they covered while the series' helper was
            away): a familiar face, offered before strangers.
        stepped_back: Helpers who stepped back from the series (or whom the neighbour
            stepped back from): never offered its occurrences.
    """

    helper_id: uuid.UUID | None = None
    familiar: frozenset[uuid.UUID] = frozenset()
    stepped_back: frozenset[uuid.UUID] = frozenset()


_NO_SERIES = SeriesFaces()


def rank(
    helpers: Iterable[HelperView],
    request: HelpRequested,
    *,
    width: int,
    series: SeriesFaces = _NO_SERIES,
    partners: Iterable[PartnerView] = (),
) -> list[Candidate]:
    """The eligible helpers for ``request``, best first.

    The preferred helper, then the series' helper, then regular helpers (most visits first)
    come first; then helpers the neighbour has met (or who covered an occurrence of the
    series); then the partners' services that take the request; then nearby helpers,
    nearest first with each hour they have booked this week counting as
    ``KM_PER_BOOKED_HOUR`` farther (work is spread, close to home), where each block of
    ``width`` (one cascade round) keeps a place for a newcomer so that people new to Kith get
    a fair turn. A partner's service that is the preferred, the series' or a regular helper
    ranks with those.
    """
    candidates = [
        _place(h, request, series)
        for h in helpers
        if h.profile.person_id not in series.stepped_back and is_eligible(h, request)
    ]
    candidates += [
        _place_partner(p, request, series)
        for p in partners
        if p.service.helper_id not in series.stepped_back
        and why_partner_ineligible(p, request) is None
    ]
    preferred = request.preferred_helper_id

    def closeness(c: Candidate) -> tuple[int, int, int, int, int, float, str]:
        return (
            c.tier,
            c.helper_id != preferred,
            c.helper_id != series.helper_id,
            -c.visits_together,
            not c.shares_language,
            c.distance_km,
            str(c.helper_id),
        )

    def fairness(c: Candidate) -> tuple[float, float, str]:
        return (_fair_distance(c), c.distance_km, str(c.helper_id))

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
                or _fair_distance(newcomers[0]) < _fair_distance(established[0])
            )
            block.append(newcomers.pop(0) if take_newcomer else established.pop(0))
        merged.extend(block)
    return merged


def within_reach(round_: list[Candidate]) -> list[Candidate]:
    """The helpers of a round of strangers about as near as its lead; others wait their turn.

    Rounds led by someone the neighbour knows are left whole: closeness there is not distance.
    """
    if not round_ or round_[0].tier is not Tier.NEARBY:
        return round_
    reach = _fair_distance(round_[0]) * ROUND_REACH_RATIO + ROUND_REACH_KM
    return [round_[0]] + [
        c for c in round_[1:] if c.tier is Tier.NEARBY and _fair_distance(c) <= reach
    ]


def _fair_distance(candidate: Candidate) -> float:
    bonus = KM_FOR_SHARED_LANGUAGE if candidate.shares_language else 0.0
    return candidate.distance_km + KM_PER_BOOKED_HOUR * candidate.hours_this_week - bonus


def _place(helper: HelperView, request: HelpRequested, series: SeriesFaces) -> Candidate:
    relationship = helper.relationship
    helper_id = helper.profile.person_id
    distance = distance_km(helper.profile.cell, request.cell)
    week_hours = hours_booked_in_week(helper, request)
    visits = relationship.visits if relationship else 0
    newcomer = helper.visits_ever == 0
    reasons: list[Reason] = []
    wanted_again = relationship is not None and relationship.both_want_again
    regular = relationship is not None and wanted_again and relationship.stage in _CONTINUING
    if helper_id == request.preferred_helper_id:
        tier = Tier.PRIORITY
        reasons.append(
            Reason(code=ReasonCode.PREFERRED_BY_NEIGHBOUR, text="The neighbour asked for you")
        )
    elif helper_id == series.helper_id or regular:
        tier = Tier.PRIORITY
    elif wanted_again or helper_id in series.familiar:
        tier = Tier.MET
    else:
        tier = Tier.NEARBY
    if helper_id == series.helper_id:
        reasons.append(
            Reason(
                code=ReasonCode.REGULAR_HELPER,
                text=f"You are booked for this {_series_noun(request)}: the same face each time",
            )
        )
    elif regular:
        reasons.append(Reason(code=ReasonCode.REGULAR_HELPER, text=_visited(visits)))
    elif helper_id in series.familiar and not wanted_again:
        reasons.append(
            Reason(
                code=ReasonCode.MET_BEFORE,
                text=f"You have helped with this {_series_noun(request)} before",
            )
        )
    elif wanted_again:
        reasons.append(
            Reason(
                code=ReasonCode.MET_BEFORE,
                text="You have met this neighbour and both want to meet again",
            )
        )
    languages = shared(request.languages, helper.profile.languages)
    if languages:
        reasons.append(Reason(code=ReasonCode.SHARED_LANGUAGE, text=spoken(languages)))
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
        shares_language=bool(languages),
    )


def _place_partner(view: PartnerView, request: HelpRequested, series: SeriesFaces) -> Candidate:
    service = view.service
    relationship = view.relationship
    visits = relationship.visits if relationship else 0
    reasons: list[Reason] = []
    regular = (
        relationship is not None
        and relationship.both_want_again
        and relationship.stage in _CONTINUING
    )
    tier = Tier.PARTNER
    if service.helper_id == request.preferred_helper_id:
        tier = Tier.PRIORITY
        reasons.append(
            Reason(code=ReasonCode.PREFERRED_BY_NEIGHBOUR, text="The neighbour asked for you")
        )
    elif service.helper_id == series.helper_id:
        tier = Tier.PRIORITY
        reasons.append(
            Reason(
                code=ReasonCode.REGULAR_HELPER,
                text=f"You are booked for this {_series_noun(request)}: the same face each time",
            )
        )
    elif regular:
        tier = Tier.PRIORITY
        reasons.append(Reason(code=ReasonCode.REGULAR_HELPER, text=_visited(visits)))
    skill = request.skill.value.replace("_", " ")
    reasons.append(
        Reason(
            code=ReasonCode.PARTNER_SERVICE,
            text=f"{service.name[:120]} takes {skill} requests in this neighbourhood",
        )
    )
    return Candidate(
        helper_id=service.helper_id,
        tier=tier,
        distance_km=0.0,
        hours_this_week=0,
        visits_together=visits,
        newcomer=False,
        reasons=tuple(reasons),
    )


def _series_noun(request: HelpRequested) -> str:
    return "recurring request" if request.recurring else "request"


def _visited(visits: int) -> str:
    if visits == 0:
        return "This neighbour would like to see you again"
    return f"You have visited this neighbour {visits} time{'' if visits == 1 else 's'}"
