"""What partners do through ``kith.partners.v1``: refer people, run services, answer offers.

The gateway has checked each event against the partner's scopes before it gets here. Every
event is applied in ONE transaction with its inbox record (``UnitOfWork.outer``), and goes
through the same use cases as the HTTP API (``ask_for_help``, ``accept``, ``decline``), whose
own transactions join it: a referral never exists without its requests and their events, and
a redelivered event changes nothing. An event that can never be applied raises
``RejectedEvent`` with the reason, which dead-letters it and rolls all of it back.
"""

from __future__ import annotations

import uuid

from services.booking.domain.errors import BookingProblem
from services.booking.domain.partners import PersonKind, referral_problem
from services.booking.domain.visits import OfferStatus, Repeat
from services.booking.service_layer import offers, requests
from services.booking.service_layer.commands import AskForHelp
from services.booking.service_layer.ports import Repository, UnitOfWork
from shared.contracts import Envelope, Payload, utc_now
from shared.contracts.partners import PartnerOfferAnswered, PartnerServiceChanged, PersonReferred
from shared.messaging import RejectedEvent

#: The partner events booking applies.
PARTNER_EVENTS = (PersonReferred, PartnerServiceChanged, PartnerOfferAnswered)


async def apply(
    uow: UnitOfWork, envelope: Envelope[Payload], consumer: str, referral_time_zone: str
) -> None:
    """Apply one partner event exactly once.

    A referred person lives in ``referral_time_zone`` (a referral names no zone): their
    weekly visits keep their local hour across daylight-saving changes, as a member's do.
    """
    async with uow.outer() as repo:
        if not await repo.first_delivery(consumer, envelope.event_id):
            return
        data = envelope.data
        if isinstance(data, PersonReferred):
            await _person_referred(uow, repo, envelope, data, referral_time_zone)
        elif isinstance(data, PartnerServiceChanged):
            await _service_changed(repo, envelope, data)
        elif isinstance(data, PartnerOfferAnswered):
            await _offer_answered(uow, repo, data)


async def _person_referred(
    uow: UnitOfWork,
    repo: Repository,
    envelope: Envelope[Payload],
    data: PersonReferred,
    time_zone: str,
) -> None:
    """A person the partner refers, their consent, and their request, as if they had asked."""
    if await repo.referral_known(data.referral_id):
        return  # the same referral sent again (under a new event id): nothing more
    problem = referral_problem(data.neighbourhood, data.cell)
    if problem is not None:
        raise RejectedEvent(f"referral {data.referral_id} cannot be honoured: {problem}")
    person_id = await repo.upsert_referred_person(
        {
            "person_id": uuid.uuid4(),
            "partner_id": data.partner_id,
            "partner_reference": data.partner_reference,
            "display_name": data.first_name,
            "neighbourhood": data.neighbourhood,
            "cell": data.cell,
            "time_zone": time_zone,
        }
    )
    command = AskForHelp(
        neighbour_id=person_id,
        skill=data.skill,
        starts_at=data.starts_at,
        hours=data.hours,
        repeat=Repeat.WEEK if data.occurrences > 1 else None,
        occurrences=data.occurrences,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.event_id,
    )
    try:
        created = await requests.ask_for_help(uow, command, utc_now())
    except BookingProblem as refused:
        raise RejectedEvent(
            f"referral {data.referral_id} cannot be honoured: {refused.detail}"
        ) from refused
    await repo.add_referral(
        {
            "referral_id": data.referral_id,
            "partner_id": data.partner_id,
            "person_id": person_id,
            "partner_reference": data.partner_reference,
            "series_id": created["series_id"],
            "consent_given_at": data.consent.given_at,
            "consent_method": data.consent.method.value,
            "consent_recorded_by": data.consent.recorded_by,
            "referred_at": envelope.occurred_at,
        }
    )


async def _service_changed(
    repo: Repository, envelope: Envelope[Payload], data: PartnerServiceChanged
) -> None:
    """Keep the service, and a helper record under its identity, as last announced."""
    service = {
        "helper_id": data.helper_id,
        "partner_id": data.partner_id,
        "name": data.name,
        "skills": [skill.value for skill in data.skills],
        "neighbourhoods": list(data.neighbourhoods),
        "active": data.active,
    }
    known = await repo.person_kind(data.helper_id)
    if known is None:
        await repo.add_partner_service_person(service)
    elif known != (PersonKind.PARTNER_SERVICE, data.partner_id):
        # A partner must never take over someone's account, nor another partner's service.
        raise RejectedEvent(
            f"helper_id {data.helper_id} is already someone else's: choose a new one"
        )
    await repo.upsert_partner_service(service, envelope.occurred_at)


async def _offer_answered(uow: UnitOfWork, repo: Repository, data: PartnerOfferAnswered) -> None:
    """The partner's service accepts or declines an offer, exactly as a helper would."""
    offer = await repo.offer(data.offer_id)
    if offer is None or offer["request_id"] != data.request_id:
        raise RejectedEvent(f"no offer {data.offer_id} for request {data.request_id}")
    service = await repo.partner_service(offer["helper_id"])
    if service is None or service["partner_id"] != data.partner_id:
        raise RejectedEvent(f"offer {data.offer_id} was not made to this partner's service")
    if data.accepted and offer["status"] == OfferStatus.ACCEPTED:
        return  # an answer the partner sent again: the visit is booked already
    if data.accepted and not service["active"]:
        raise RejectedEvent(f"the service {service['name']!r} is stopped: it takes no visits")
    try:
        if data.accepted:
            await offers.accept(uow, offer["helper_id"], data.offer_id, utc_now())
        else:
            await offers.decline(uow, offer["helper_id"], data.offer_id, utc_now())
    except BookingProblem as refused:
        raise RejectedEvent(f"offer {data.offer_id}: {refused.detail}") from refused
