"""How one request moves through rounds of offers until it is booked or escalated.

Pure: every function takes the current progress and the time, and returns the new progress
with the events to publish. Offer ids are derived from the request, the helper and the round,
so re-running a step after a redelivery produces the very same offers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import takewhile

from services.matching.domain.ranking import Candidate, Tier, within_reach
from shared.contracts.requests import (
    HelpRequested,
    OfferMade,
    Reason,
    ReasonCode,
    RequestUnmatched,
)

_OFFER_NAMESPACE = uuid.UUID("6f1b2f0e-4d0a-5c39-9a57-6b6974680001")


class Status(StrEnum):
    """Where a request stands in matching."""

    OPEN = "open"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class Policy:
    """The cascade's knobs (from settings).

    Attributes:
        regular_hold_s: How long a regular or preferred helper holds the request alone.
        offer_ttl_s: How long an offer (and a widened round) stays open.
        cascade_width: Helpers offered at once in a widened round.
        cascade_rounds: Rounds before the request is escalated.
        short_notice_s: An offer of a visit starting within this long says so.
        escalate_before_s: A request asked for again (its helper cancelled, or a
            suspension held it) that is still not booked this long before it starts goes to
            operators then, whatever rounds are left; 0 leaves it to the rounds.
    """

    regular_hold_s: int
    offer_ttl_s: int
    cascade_width: int
    cascade_rounds: int
    short_notice_s: int = 24 * 3600
    escalate_before_s: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    """One request's way through the cascade.

    Attributes:
        request: The request as asked.
        event_id: The ``HelpRequested`` event's id (the cause of every offer).
        correlation_id: Carried over from the request to every offer.
        status: Open, booked, cancelled or unmatched.
        round: The current round (0 before the first).
        offers: The offers of the current round.
        declined: Offer ids declined (or lapsed) so far.
        tried: Every helper offered so far, in order.
        due_at: When the current round ends if nobody answers; ``None`` once closed.
        partition: The partition the request arrived on (the owner's timer looks at it).
        first_round: Rounds spent on earlier asks of this request: it was booked, then asked
            again (its helper cancelled, or a suspension held the visit). Rounds go on
            counting from there, so every offer keeps an id of its own, while each ask gets
            the whole cascade.
        booked_helper_id: The helper booked when the request was last booked; left out when
            it is asked again (they cancelled, or were suspended).
        earlier_asks: Ids of the earlier ``HelpRequested`` events of this request: one
            delivered again is not a new ask.
        holding: The current round is a regular's (or the preferred helper's) alone: their
            hours are held from other requests until it ends.
        retries: Times the request was tried again after an escalation, because supply
            changed in its neighbourhood (``retried``).
        pending_ask: A new ask that arrived while the request was still open here: booking
            booked it and asked again before matching read the booking (the streams are
            read in no order between them). Taken up as soon as the booking is read.
        directed: The current round is an offer an operator directed to one helper
            (``directed``): when it ends unanswered, the request goes back to operators.
        directions: Ids of the operators' directions taken so far: one delivered again
            opens no second round.
    """

    request: HelpRequested
    event_id: uuid.UUID
    correlation_id: uuid.UUID
    partition: int
    status: Status = Status.OPEN
    round: int = 0
    offers: tuple[OfferMade, ...] = ()
    declined: frozenset[uuid.UUID] = frozenset()
    tried: tuple[uuid.UUID, ...] = ()
    due_at: datetime | None = None
    first_round: int = 0
    booked_helper_id: uuid.UUID | None = None
    earlier_asks: tuple[uuid.UUID, ...] = ()
    holding: bool = False
    retries: int = 0
    pending_ask: uuid.UUID | None = None
    directed: bool = False
    directions: tuple[uuid.UUID, ...] = ()

    @property
    def rounds_this_ask(self) -> int:
        """Rounds spent on the current ask."""
        return self.round - self.first_round

    def held_helper(self) -> uuid.UUID | None:
        """The helper whose hours this request holds from others now, if any."""
        if self.status is Status.OPEN and self.holding and self.offers:
            return self.offers[0].helper_id
        return None

    def is_due(self, now: datetime) -> bool:
        """Whether the current round has run out of time."""
        return self.status is Status.OPEN and self.due_at is not None and self.due_at <= now


Outcome = tuple[Progress, list[OfferMade | RequestUnmatched]]


def offer_id(request_id: uuid.UUID, helper_id: uuid.UUID, round_: int) -> uuid.UUID:
    """The deterministic id of the offer of ``request_id`` to ``helper_id`` in ``round_``."""
    return uuid.uuid5(_OFFER_NAMESPACE, f"{request_id}:{helper_id}:{round_}")


def next_round(
    progress: Progress, ranked: list[Candidate], policy: Policy, now: datetime
) -> Outcome:
    """Open the next round with the best helpers not yet tried, or escalate.

    The first round goes to a regular or preferred helper alone for the hold window, when
    there is one. A partner's service also holds a round alone (for the hold window, or the
    offer TTL when there is no hold): a round of people stops short of it, so the service is
    never raced by strangers for the requests it takes. Every other round goes to up to
    ``cascade_width`` helpers for the offer TTL; a round of strangers only to those about as
    near as its nearest (``within_reach``). With no untried eligible helper left, or all
    rounds used, the request is escalated at once.
    """
    if progress.status is not Status.OPEN:
        return progress, []
    untried = [c for c in ranked if c.helper_id not in progress.tried]
    if progress.directed:
        # An operator chose the helper: their choice let go, the request is theirs again.
        return escalate(
            progress,
            untried=bool(untried),
            policy=policy,
            reason="the helper an operator chose did not take it",
        )
    deadline = operators_deadline(progress, policy, now)
    if deadline is not None and progress.rounds_this_ask > 0 and now >= deadline:
        return escalate(
            progress,
            untried=bool(untried),
            policy=policy,
            reason="asked again after a cancellation and not taken in time: the visit starts soon",
        )
    if progress.rounds_this_ask >= policy.cascade_rounds or not untried:
        return escalate(progress, untried=bool(untried), policy=policy)
    number = progress.round + 1
    lead = untried[0]
    opening = number == progress.first_round + 1
    hold = policy.regular_hold_s > 0 and (
        (opening and lead.tier is Tier.PRIORITY) or lead.tier is Tier.PARTNER
    )
    if hold or lead.tier is Tier.PARTNER:
        chosen = untried[:1]
    else:
        chosen = list(takewhile(lambda c: c.tier is not Tier.PARTNER, untried))
        chosen = within_reach(chosen)[: policy.cascade_width]
    window = timedelta(seconds=policy.regular_hold_s if hold else policy.offer_ttl_s)
    expires_at = now + max(window, timedelta(seconds=policy.offer_ttl_s))
    request = progress.request
    offers = tuple(
        OfferMade(
            offer_id=offer_id(request.request_id, c.helper_id, number),
            request_id=request.request_id,
            helper_id=c.helper_id,
            neighbour_id=request.neighbour_id,
            neighbourhood=request.neighbourhood,
            skill=request.skill,
            starts_at=request.starts_at,
            hours=request.hours,
            round=number,
            expires_at=expires_at,
            reasons=[*c.reasons, *short_notice(request, policy, now)][:10],
        )
        for c in chosen
    )
    advanced = replace(
        progress,
        round=number,
        offers=offers,
        tried=(*progress.tried, *(c.helper_id for c in chosen)),
        due_at=now + window if deadline is None else min(now + window, deadline),
        holding=hold and lead.tier is Tier.PRIORITY,
    )
    return advanced, list(offers)


def operators_deadline(progress: Progress, policy: Policy, now: datetime) -> datetime | None:
    """When operators must hear of a request asked for again that is still not booked.

    ``escalate_before_s`` before the start; when asked again later than that, halfway to the
    start (one round, then operators). None for a first ask, or when the policy sets none.
    """
    if not progress.earlier_asks or progress.retries or policy.escalate_before_s <= 0:
        return None  # a first ask, or one operators were already told of
    starts_at = progress.request.starts_at
    deadline = starts_at - timedelta(seconds=policy.escalate_before_s)
    if progress.rounds_this_ask == 0 and deadline <= now:
        deadline = now + (starts_at - now) / 2
    return deadline


def short_notice(request: HelpRequested, policy: Policy, now: datetime) -> list[Reason]:
    """A reason saying the visit starts soon, when it does: hours only, nothing personal."""
    left = request.starts_at - now
    if left > timedelta(seconds=policy.short_notice_s) or left <= timedelta(0):
        return []
    hours = int(left.total_seconds() // 3600)
    when = "within the hour" if hours < 1 else f"in {hours} hour{'s' if hours > 1 else ''}"
    return [Reason(code=ReasonCode.SHORT_NOTICE, text=f"Short notice: it starts {when}")]


def escalate(
    progress: Progress, *, untried: bool, policy: Policy, reason: str | None = None
) -> Outcome:
    """Give up on matching: an operator should step in."""
    request = progress.request
    if reason is None and untried:
        reason = f"no helper accepted within {policy.cascade_rounds} rounds"
    elif reason is None and progress.tried:
        reason = "every eligible helper was offered the request and none accepted"
    elif reason is None:
        reason = "no eligible helper: nobody free, vetted and near enough offers this skill"
    unmatched = RequestUnmatched(
        request_id=request.request_id,
        neighbour_id=request.neighbour_id,
        neighbourhood=request.neighbourhood,
        skill=request.skill,
        starts_at=request.starts_at,
        rounds=progress.rounds_this_ask,
        tried_helper_ids=list(progress.tried),
        reason=reason,
    )
    given_up = replace(
        progress,
        status=Status.UNMATCHED,
        offers=(),
        due_at=None,
        holding=False,
        directed=False,
    )
    return given_up, [unmatched]


def declined(progress: Progress, declined_offer_id: uuid.UUID) -> tuple[Progress, bool]:
    """Record a declined (or lapsed) offer; ``True`` when the whole round has said no."""
    updated = replace(progress, declined=progress.declined | {declined_offer_id})
    current = {offer.offer_id for offer in progress.offers}
    round_over = (
        progress.status is Status.OPEN
        and declined_offer_id in current
        and current <= updated.declined
    )
    return updated, round_over


def closed(progress: Progress, status: Status, helper_id: uuid.UUID | None = None) -> Progress:
    """The request was booked (by ``helper_id``) or cancelled: no further rounds."""
    booked = helper_id if status is Status.BOOKED else progress.booked_helper_id
    return replace(
        progress,
        status=status,
        due_at=None,
        booked_helper_id=booked,
        holding=False,
        directed=False,
    )


def is_new_ask(progress: Progress, event_id: uuid.UUID) -> bool:
    """Whether a ``HelpRequested`` of a request matching knows is a new ask of it, not one
    delivered again."""
    return (
        event_id != progress.event_id
        and event_id not in progress.earlier_asks
        and event_id != progress.pending_ask
    )


def asked_again(
    progress: Progress, request: HelpRequested, event_id: uuid.UUID, correlation_id: uuid.UUID
) -> Progress:
    """A settled request asked for anew: open, with a whole cascade ahead of it.

    Everyone may be offered it again except the helper who was booked: those who let it go
    before may be free now. Rounds go on counting, so no offer id is used twice.
    """
    return replace(
        progress,
        request=request,
        event_id=event_id,
        correlation_id=correlation_id,
        status=Status.OPEN,
        first_round=progress.round,
        offers=(),
        declined=frozenset(),
        tried=() if progress.booked_helper_id is None else (progress.booked_helper_id,),
        due_at=None,
        earlier_asks=(*progress.earlier_asks, progress.event_id),
        pending_ask=None,
        directed=False,
    )


def retried(progress: Progress) -> Progress:
    """An escalated request tried again because its neighbourhood's supply changed: open,
    with a whole cascade ahead of it for the helpers not yet offered it (those offered it
    before let it go). Rounds go on counting, so no offer id is used twice."""
    return replace(
        progress,
        status=Status.OPEN,
        first_round=progress.round,
        offers=(),
        due_at=None,
        retries=progress.retries + 1,
        directed=False,
    )
