"""Applying what matching, trust and partners publish: offers, escalations, relationships,
standing, and partners' referrals, services and answers (in ``partners``).

Each handler runs in one transaction with the inbox record, so a redelivered event has no
second effect.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.booking.domain.visits import RequestStatus
from services.booking.service_layer import partners, safeguarding
from services.booking.service_layer.ports import Repository, UnitOfWork
from services.booking.service_layer.records import Row
from shared.contracts import Envelope, Payload, utc_now
from shared.contracts.candidates import CandidatesListed, OfferDirectionRefused
from shared.contracts.requests import OfferMade, RequestUnmatched
from shared.contracts.topics import STANDING
from shared.contracts.trust import RelationshipChanged, StandingChanged
from shared.messaging import RejectedEvent

CONSUMER = "booking"
_BOOKABLE = (RequestStatus.OPEN.value, RequestStatus.UNMATCHED.value)


#: The zone of referred people when the caller names none (the ``referral_time_zone``
#: setting's default).
REFERRAL_TIME_ZONE = "Europe/London"


async def apply(
    uow: UnitOfWork, envelope: Envelope[Payload], referral_time_zone: str = REFERRAL_TIME_ZONE
) -> None:
    """Apply one consumed event exactly once (referred people live in ``referral_time_zone``)."""
    if isinstance(envelope.data, partners.PARTNER_EVENTS):
        await partners.apply(uow, envelope, CONSUMER, referral_time_zone)
        return
    if isinstance(envelope.data, OfferMade):
        [refusal] = await apply_offers(uow, [envelope])
        if refusal is not None:
            raise RejectedEvent(refusal)
        return
    async with uow.begin() as repo:
        if not await repo.first_delivery(CONSUMER, envelope.event_id):
            return
        data = envelope.data
        if isinstance(data, RequestUnmatched):
            await _request_unmatched(repo, data)
        elif isinstance(data, CandidatesListed):
            await _candidates_listed(repo, data, envelope)
        elif isinstance(data, OfferDirectionRefused):
            if not await repo.refuse_direction(data.direction_id, data.reason, data.refused_at):
                raise RejectedEvent(f"refusal of unknown direction {data.direction_id}")
        elif isinstance(data, RelationshipChanged):
            await _relationship_changed(repo, data, envelope)
        elif isinstance(data, StandingChanged):
            approved = {
                skill.value: until.isoformat() for skill, until in data.approved_skills.items()
            }
            standing = {
                "suspended": data.suspended,
                "approved_skills": approved,
                "late_cancellations": data.late_cancellations,
                "no_shows": data.no_shows,
            }
            # Trust's word only: an account held for review stays held whatever trust says.
            was_suspended = bool((await repo.standing(data.person_id))["suspended"])
            if await repo.set_standing(data.person_id, standing, envelope.occurred_at):
                await safeguarding.standing_changed(
                    repo, data.person_id, data.suspended, was_suspended, utc_now()
                )
        # Other types on these topics are not booking's concern.


async def forget(uow: UnitOfWork, topic: str, key: str) -> None:
    """Apply a tombstone: forget what booking keeps under a person's key on a compacted
    stream (trust's standing of an erased person). Idempotent: a second delete finds
    nothing."""
    if topic == STANDING.name:
        async with uow.read() as repo:
            await repo.forget_standing(uuid.UUID(key))


async def apply_offers(uow: UnitOfWork, envelopes: Sequence[Envelope[Payload]]) -> list[str | None]:
    """Apply a run of consumed offers in one statement, each exactly once, as ``apply`` would
    one by one; return, for each, ``None`` or why it can never be applied.

    Offers are most of what booking consumes (several per request). One that arrives after
    its request was booked or cancelled is kept, as withdrawn, so the helper's inbox is
    honest and a redelivery is still recognised.
    """
    offers = [(e.event_id, e.data) for e in envelopes if isinstance(e.data, OfferMade)]
    if len(offers) != len(envelopes):
        raise TypeError("a run of offers holds another event")
    async with uow.read() as repo:
        neighbours = await repo.receive_offers(
            CONSUMER, [(event_id, _offer_row(offer)) for event_id, offer in offers], _BOOKABLE
        )
    return [
        _refusal(offer, neighbour) for (_, offer), neighbour in zip(offers, neighbours, strict=True)
    ]


def _offer_row(offer: OfferMade) -> Row:
    return {
        "offer_id": offer.offer_id,
        "request_id": offer.request_id,
        "helper_id": offer.helper_id,
        "neighbour_id": offer.neighbour_id,
        "neighbourhood": offer.neighbourhood,
        "skill": str(offer.skill),
        "round": offer.round,
        "expires_at": offer.expires_at,
        "reasons": [reason.model_dump(mode="json") for reason in offer.reasons],
    }


def _refusal(offer: OfferMade, neighbour_id: uuid.UUID | None) -> str | None:
    """Why an offer can never be applied, given its request's neighbour (``None``: no such
    request)."""
    if neighbour_id is None:
        return f"offer for unknown request {offer.request_id}"
    if neighbour_id != offer.neighbour_id:
        return "offer names a neighbour other than the request's"
    return None


async def _request_unmatched(repo: Repository, event: RequestUnmatched) -> None:
    request = await repo.request(event.request_id, lock=True)
    if request is None:
        raise RejectedEvent(f"unmatched escalation for unknown request {event.request_id}")
    if request["status"] == RequestStatus.OPEN:
        await repo.set_request_status(event.request_id, RequestStatus.UNMATCHED)


async def _candidates_listed(
    repo: Repository, event: CandidatesListed, envelope: Envelope[Payload]
) -> None:
    """Keep matching's answer with the operator's question it answers."""
    answered = await repo.answer_candidate_query(
        event.query_id,
        event.request_id,
        [c.model_dump(mode="json") for c in event.candidates],
        [p.model_dump(mode="json") for p in event.passed_over],
        envelope.occurred_at,
    )
    if not answered:
        raise RejectedEvent(f"candidates for unknown question {event.query_id}")


async def _relationship_changed(
    repo: Repository, event: RelationshipChanged, envelope: Envelope[Payload]
) -> None:
    await repo.upsert_relationship(
        {
            "pair_id": event.pair_id,
            "helper_id": event.helper_id,
            "neighbour_id": event.neighbour_id,
            "neighbourhood": event.neighbourhood,
            "stage": str(event.stage),
            "visits": event.visits,
            "hours_together": event.hours_together,
            "both_want_again": event.both_want_again,
            "matchable": event.matchable,
            "last_visit_at": event.last_visit_at,
            "as_of": envelope.occurred_at,
        }
    )
