"""What a partner sends: authenticate, decode, admit, and publish again, or refuse with why.

Kafka (the inbox topic) and HTTP (``POST /v1/events``) go through ``receive`` alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.partners.domain import keys
from services.partners.domain.admission import Refused, admit
from services.partners.domain.partner import Partner
from services.partners.service_layer.ports import PartnersUnitOfWork
from services.partners.service_layer.records import Rejection
from shared.contracts import Envelope, Payload, UndecodableEvent, decode, utc_now
from shared.contracts.inbox_signature import SIGNATURE_HEADER, inbox_signature_matches
from shared.contracts.partners import PartnerOfferAnswered, PersonReferred
from shared.contracts.registry import TOPIC_OF
from shared.geo import neighbourhood_of_cell
from shared.unit_of_work import UnitOfWorkStarter

PRODUCER = "partners"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a message came from: ``kafka`` with its position, or ``http``."""

    kind: str
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A sender named by its API key (the HTTP API, over TLS)."""

    key: str | None


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A Kafka message: the partner id it is keyed by and its ``kith-partner-signature``.

    ``clear_key`` is set when the message carries an API key in a header, which is refused.
    """

    partner_key: bytes | None
    signature: str | None
    clear_key: bool = False


Credentials = ApiKey | SignedMessage


@dataclass(frozen=True, slots=True)
class Accepted:
    """The message became ``event_id`` on ``topic`` (now, or when it was first sent)."""

    event_id: uuid.UUID
    topic: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The message was refused; ``partner`` is None when the sender was not recognised."""

    reason: str
    partner: Partner | None


Outcome = Accepted | Rejected


async def authenticate(uow: PartnersUnitOfWork, api_key: str | None) -> Partner | None:
    """The active or inactive partner holding ``api_key``, or None."""
    if not api_key:
        return None
    found = await uow.partner_by_key_hash(keys.hash_key(api_key))
    if found is None:
        return None
    partner, stored = found
    # The lookup was by hash; compare again in constant time so nothing depends on timing.
    return partner if keys.key_matches(api_key, stored) else None


async def authenticate_message(
    uow: PartnersUnitOfWork, raw: bytes | None, message: SignedMessage
) -> Partner | str:
    """The partner that signed a Kafka message, or why it is not recognised."""
    if message.clear_key:
        return (
            "an API key travels in a Kafka header in clear: sign the message instead"
            f" ({SIGNATURE_HEADER}); rotate that key"
        )
    if not message.signature or not message.partner_key:
        return f"no {SIGNATURE_HEADER} and partner id key"
    try:
        partner_id = uuid.UUID(message.partner_key.decode())
    except (UnicodeDecodeError, ValueError):
        return "the message key is not a partner id"
    found = await uow.partner_key_hash(partner_id)
    if found is None or not inbox_signature_matches(
        found[1], str(partner_id), raw or b"", message.signature
    ):
        return "the signature does not match the partner's key"
    return found[0]


async def receive(
    start: UnitOfWorkStarter[PartnersUnitOfWork],
    raw: bytes | None,
    credentials: Credentials,
    source: Source,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Admit one partner message, or refuse it, in one unit of work.

    A refusal from a recognised partner is recorded for that partner to read back; an
    unrecognised sender's message is only refused (the caller dead-letters it).
    """
    async with start() as uow:
        return await _receive(uow, raw, credentials, source, now)


async def _receive(
    uow: PartnersUnitOfWork,
    raw: bytes | None,
    credentials: Credentials,
    source: Source,
    now: datetime | None,
) -> Outcome:
    if isinstance(credentials, SignedMessage):
        sender = await authenticate_message(uow, raw, credentials)
        if isinstance(sender, str):
            return Rejected(sender, None)
        partner = sender
    else:
        found = await authenticate(uow, credentials.key)
        if found is None:
            return Rejected(
                "no partner key" if not credentials.key else "unknown partner key", None
            )
        partner = found
    try:
        envelope = decode(raw)
    except UndecodableEvent as error:
        return await _refuse(uow, partner, source, error.reason, None)
    try:
        payload = admit(partner, envelope.data, now=now or utc_now())
        if isinstance(payload, PartnerOfferAnswered) and not await uow.offer_made_to(
            payload.offer_id, partner.partner_id
        ):
            raise Refused(f"offer {payload.offer_id} was not made to your service")
        if isinstance(payload, PersonReferred):
            _check_place(payload)
    except Refused as refusal:
        return await _refuse(uow, partner, source, refusal.reason, envelope)
    topic = TOPIC_OF[type(payload)].name
    canonical = Envelope.wrap(
        payload,
        producer=PRODUCER,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.event_id,
    )
    event_id = await uow.accept(partner.partner_id, envelope.event_id, canonical, topic)
    return Accepted(event_id, topic)


def _check_place(referral: PersonReferred) -> None:
    """Booking would refuse a cell outside its neighbourhood; say so to the partner now."""
    try:
        parent = neighbourhood_of_cell(referral.cell)
    except ValueError:  # h3's errors for a string that is not a cell
        raise Refused(f"cell: {referral.cell} is not an H3 cell") from None
    if parent != referral.neighbourhood:
        raise Refused(f"cell: {referral.cell} does not lie in {referral.neighbourhood}")


async def _refuse(
    uow: PartnersUnitOfWork,
    partner: Partner,
    source: Source,
    reason: str,
    envelope: Envelope[Payload] | None,
) -> Rejected:
    await uow.reject(
        Rejection(
            partner_id=partner.partner_id,
            reason=reason,
            source=source.kind,
            partner_event_id=None if envelope is None else envelope.event_id,
            type=None if envelope is None else envelope.type,
            topic=source.topic,
            partition=source.partition,
            offset=source.offset,
        )
    )
    return Rejected(reason, partner)
