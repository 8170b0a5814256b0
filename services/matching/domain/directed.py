"""An operator's hand in the cascade: the helpers they may choose from, and the offer they
direct to one of them.

Pure, like the cascade: the operator's choice is judged by the same rules as any offer
(``why_ineligible``), and the offer it makes is an ordinary round of one helper, whose id is
derived like every other offer's.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from services.matching.domain.cascade import (
    Policy,
    Progress,
    Status,
    offer_id,
    retried,
    short_notice,
)
from services.matching.domain.eligibility import why_ineligible
from services.matching.domain.model import HelperView
from services.matching.domain.ranking import Candidate
from shared.contracts.requests import HelpRequested, OfferMade, Reason, ReasonCode

#: What a helper is told of an offer an operator chose them for.
CHOSEN = Reason(code=ReasonCode.OPERATOR_CHOSEN, text="A coordinator chose you for this request")
#: Said of a helper who stepped back from the request's series (or was stepped back from).
STEPPED_BACK = "stepped back from this recurring request"


def passed_over(
    views: list[HelperView],
    request: HelpRequested,
    eligible: set[uuid.UUID],
    stepped_back: frozenset[uuid.UUID],
) -> list[tuple[uuid.UUID, str]]:
    """The helpers near the request (offering its skill, within their radius of it) that
    may not be offered it, each with why (``why_ineligible``). The neighbour, a helper too
    perhaps, is left out: never anyone's candidate for their own request."""
    found: list[tuple[uuid.UUID, str]] = []
    for view in views:
        helper_id = view.profile.person_id
        if helper_id in eligible or helper_id == request.neighbour_id:
            continue
        why = STEPPED_BACK if helper_id in stepped_back else why_ineligible(view, request)
        if why is not None:
            found.append((helper_id, why))
    return found


def refusal(progress: Progress | None) -> str | None:
    """Why a request may not be directed to anyone now, or ``None`` when it may."""
    if progress is None:
        return None
    if progress.status is Status.BOOKED:
        return "the request is booked already"
    if progress.status is Status.CANCELLED:
        return "the request was cancelled"
    return None


def direct(
    progress: Progress,
    chosen: Candidate,
    direction_id: uuid.UUID,
    policy: Policy,
    now: datetime,
) -> tuple[Progress, OfferMade]:
    """Open a round of one: the helper the operator chose, for the offer TTL.

    An escalated request opens again (like a retry) for this round; the current round of an
    open one is replaced (offers already out stay answerable: the first yes still wins).
    When the round ends unanswered the request goes back to operators (``next_round``).
    """
    if progress.status is Status.UNMATCHED:
        progress = retried(progress)
    request = progress.request
    number = progress.round + 1
    window = timedelta(seconds=policy.offer_ttl_s)
    reasons = [CHOSEN, *chosen.reasons, *short_notice(request, policy, now)]
    offer = OfferMade(
        offer_id=offer_id(request.request_id, chosen.helper_id, number),
        request_id=request.request_id,
        helper_id=chosen.helper_id,
        neighbour_id=request.neighbour_id,
        neighbourhood=request.neighbourhood,
        skill=request.skill,
        starts_at=request.starts_at,
        hours=request.hours,
        round=number,
        expires_at=now + window,
        reasons=reasons[:10],
    )
    tried = progress.tried
    if chosen.helper_id not in tried:
        tried = (*tried, chosen.helper_id)
    advanced = replace(
        progress,
        status=Status.OPEN,
        round=number,
        offers=(offer,),
        tried=tried,
        due_at=now + window,
        holding=False,
        directed=True,
        directions=(*progress.directions, direction_id),
    )
    return advanced, offer
