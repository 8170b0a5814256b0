"""Operators' questions to matching, and the offers they direct: handled on the partition
that holds the request's neighbourhood (the events are keyed by it), like the request.

Who may be offered a request is matching's alone to say; these handlers answer with the same
ranking and rules a round uses, so an operator chooses among the helpers matching would
offer the request to, and a helper matching may not be offered it is refused.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from services.matching.domain import (
    HelperView,
    Progress,
    direct,
    passed_over,
    refusal,
    why_partner_ineligible,
)
from shared.contracts import Envelope, Payload
from shared.contracts.candidates import (
    MAX_CANDIDATES,
    Candidate,
    CandidatesAsked,
    CandidatesListed,
    OfferDirected,
    OfferDirectionRefused,
    PassedOver,
)
from shared.contracts.requests import HelpRequested

if TYPE_CHECKING:
    from services.matching.handlers import Matcher, Outgoing

PRODUCER = "matching"
_EVENT_NAMESPACE = uuid.UUID("6f1b2f0e-4d0a-5c39-9a57-6b6974680003")


def list_candidates(
    matcher: Matcher, envelope: Envelope[Payload], asked: CandidatesAsked
) -> Outgoing:
    """The helpers matching would offer the request to now, best first, and those near it
    passed over with why; nothing of the request's progress changes."""
    request = asked.as_request()
    progress = matcher.state.progress_of(request.neighbourhood, request.request_id)
    views, ranked = matcher.ranked(request)
    tried = set(progress.tried) if progress is not None else set()
    stepped_back = matcher.faces(request).stepped_back
    skipped = passed_over(views, request, {c.helper_id for c in ranked}, stepped_back)
    listed = CandidatesListed(
        query_id=asked.query_id,
        request_id=request.request_id,
        neighbourhood=request.neighbourhood,
        candidates=[
            Candidate(
                helper_id=c.helper_id,
                reasons=list(c.reasons)[:10],
                offered_before=c.helper_id in tried,
            )
            for c in ranked[:MAX_CANDIDATES]
        ],
        passed_over=[
            PassedOver(helper_id=helper_id, why=why[:200])
            for helper_id, why in skipped[:MAX_CANDIDATES]
        ],
    )
    return [_answer(envelope, listed, f"candidates:{asked.query_id}")]


def direct_offer(
    matcher: Matcher,
    envelope: Envelope[Payload],
    directed: OfferDirected,
    partition: int,
    now: datetime,
) -> Outgoing:
    """Offer the request to the helper the operator chose, alone, or refuse and say why."""
    from services.matching.handlers import wrap

    request = directed.as_request()
    progress = matcher.state.progress_of(request.neighbourhood, request.request_id)
    if progress is not None and directed.direction_id in progress.directions:
        # Delivered again: the round it opened is sent again while it lasts (same ids).
        return wrap(progress, list(progress.offers)) if progress.directed else []
    why = refusal(progress)
    views, ranked = matcher.ranked(request if progress is None else progress.request)
    chosen = next((c for c in ranked if c.helper_id == directed.helper_id), None)
    if why is None and chosen is None:
        why = _why_not(matcher, request, views, directed.helper_id)
    if why is not None or chosen is None:
        refused = OfferDirectionRefused(
            direction_id=directed.direction_id,
            request_id=request.request_id,
            helper_id=directed.helper_id,
            neighbourhood=request.neighbourhood,
            reason=(why or "may not be offered this request")[:300],
            refused_at=now,
        )
        return [_answer(envelope, refused, f"refused:{directed.direction_id}")]
    if progress is None:
        # Matching never held this request (its state was lost): it starts here.
        progress = Progress(
            request=request,
            event_id=envelope.event_id,
            correlation_id=envelope.correlation_id,
            partition=partition,
        )
    was_escalated = request.request_id in matcher.state.unmatched_in(request.neighbourhood)
    advanced, offer = direct(progress, chosen, directed.direction_id, matcher.policy, now)
    matcher.store_progress(progress, advanced)
    if was_escalated:
        waiting = matcher.state.unmatched_in(request.neighbourhood)
        matcher.state.put_unmatched(
            request.neighbourhood, [r for r in waiting if r != request.request_id]
        )
    return wrap(advanced, [offer])


def _why_not(
    matcher: Matcher, request: HelpRequested, views: list[HelperView], helper_id: uuid.UUID
) -> str:
    """Why a helper who is not among the request's candidates may not be offered it."""
    if helper_id == request.neighbour_id:
        return "is the neighbour who asked"
    near = [v for v in views if v.profile.person_id == helper_id]
    found = passed_over(near, request, set(), matcher.faces(request).stepped_back)
    if found:
        return found[0][1]
    for partner in matcher.partner_views(request):
        if partner.service.helper_id == helper_id:
            return why_partner_ineligible(partner, request) or "may not be offered this request"
    helper = matcher.state.helper(request.neighbourhood, helper_id)
    if helper.profile is None:
        return "is not a helper within reach of this neighbourhood"
    if request.skill not in helper.profile.skills:
        return f"does not offer {request.skill.value}"
    return "lives beyond their travel radius"


def _answer(envelope: Envelope[Payload], payload: Payload, identity: str) -> Envelope[Payload]:
    """Matching's answer to an operator's event, with an id fixed by what it answers."""
    return Envelope.wrap(
        payload,
        producer=PRODUCER,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.event_id,
        event_id=uuid.uuid5(_EVENT_NAMESPACE, identity),
    )
