"""Registering partners and changing what they may do (the operators' use cases)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.partners.domain import keys
from services.partners.domain.partner import Partner, Service
from services.partners.domain.scopes import ScopeError, Scopes, grant
from services.partners.domain.webhook_targets import RefusedTarget, TargetPolicy
from services.partners.service_layer.ports import Feeds, PartnersUnitOfWork
from shared.contracts import Envelope
from shared.contracts.partners import PartnerOfferAnswered
from shared.contracts.skills import Skill
from shared.unit_of_work import UnitOfWorkStarter

PRODUCER = "partners"


class UnknownPartner(LookupError):
    """No partner has this id."""


@dataclass(frozen=True, slots=True)
class ScopeRequest:
    """The scopes an operator asks for, before they are checked."""

    read_streams: tuple[str, ...] = ()
    fields: Mapping[str, Iterable[str]] | None = None
    send: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """A class of requests a partner will take: skills in neighbourhoods."""

    skills: tuple[Skill, ...]
    neighbourhoods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Registration:
    """A new partner with its API key and webhook secret, shown this once and never again."""

    partner: Partner
    api_key: str
    webhook_secret: str


def _scopes(request: ScopeRequest, *, runs_service: bool) -> Scopes:
    send = set(request.send)
    if runs_service:
        # A partner that takes requests must be able to answer the offers it is sent.
        send.add(PartnerOfferAnswered.TYPE)
    return grant(read_streams=request.read_streams, fields=request.fields, send=send)


def _service(request: ServiceRequest, existing: Service | None) -> Service:
    if not request.skills:
        raise ScopeError("service.skills", "a service takes at least one skill")
    if not request.neighbourhoods:
        raise ScopeError("service.neighbourhoods", "a service covers at least one neighbourhood")
    return Service(
        helper_id=uuid.uuid4() if existing is None else existing.helper_id,
        skills=tuple(dict.fromkeys(request.skills)),
        neighbourhoods=tuple(dict.fromkeys(request.neighbourhoods)),
    )


def _announce(partner: Partner, *, active: bool | None = None) -> list[Envelope[Any]]:
    event = partner.service_changed(active=active)
    return [] if event is None else [Envelope.wrap(event, producer=PRODUCER)]


async def register(
    start: UnitOfWorkStarter[PartnersUnitOfWork],
    feeds: Feeds,
    *,
    name: str,
    scopes: ScopeRequest,
    service: ServiceRequest | None = None,
    safeguarding_neighbourhoods: Iterable[str] = (),
    webhook_url: str | None = None,
    targets: TargetPolicy | None = None,
) -> Registration:
    """Register a partner: check its scopes, create its feed, announce its service.

    Raises:
        ScopeError: A scope cannot be granted, or the webhook URL is refused by ``targets``
            (public https only, by default); nothing was created.
    """
    _check_webhook_url(webhook_url, targets)
    granted = _scopes(scopes, runs_service=service is not None)
    api_key, secret = keys.new_api_key(), keys.new_webhook_secret()
    partner = Partner(
        partner_id=uuid.uuid4(),
        name=name,
        scopes=granted,
        webhook_secret=secret,
        key_hint=keys.key_hint(api_key),
        service=None if service is None else _service(service, None),
        safeguarding_neighbourhoods=frozenset(safeguarding_neighbourhoods),
        webhook_url=webhook_url,
    )
    # The feed exists before the partner does, so the projector never writes to a missing
    # topic; a feed left behind by a failed insert is empty and harmless.
    await feeds.ensure([partner.feed_topic])
    async with start() as uow:
        await uow.create_partner(partner, keys.hash_key(api_key), _announce(partner))
    return Registration(partner=partner, api_key=api_key, webhook_secret=secret)


_UNSET: Any = object()


async def update(
    start: UnitOfWorkStarter[PartnersUnitOfWork],
    partner_id: uuid.UUID,
    *,
    name: str = _UNSET,
    scopes: ScopeRequest = _UNSET,
    service: ServiceRequest | None = _UNSET,
    safeguarding_neighbourhoods: Iterable[str] = _UNSET,
    webhook_url: str | None = _UNSET,
    targets: TargetPolicy | None = None,
) -> Partner:
    """Change what a partner may do; only the arguments given change.

    A new webhook URL is checked against ``targets`` (public https only, by default).

    A changed service (or name) is announced whole; a removed one is announced inactive, so
    matching stops routing to it.
    """
    async with start() as uow:
        partner = await uow.partner(partner_id)
        if partner is None:
            raise UnknownPartner(str(partner_id))
        changes: dict[str, Any] = {}
        if name is not _UNSET:
            changes["name"] = name
        new_service = partner.service
        if service is not _UNSET:
            new_service = None if service is None else _service(service, partner.service)
            changes["service"] = new_service
        if scopes is not _UNSET or service is not _UNSET:
            request = (
                scopes
                if scopes is not _UNSET
                else ScopeRequest(
                    read_streams=tuple(partner.scopes.read_streams),
                    fields=partner.scopes.fields,
                    send=tuple(partner.scopes.send),
                )
            )
            changes["scopes"] = _scopes(request, runs_service=new_service is not None)
        if safeguarding_neighbourhoods is not _UNSET:
            changes["safeguarding_neighbourhoods"] = frozenset(safeguarding_neighbourhoods)
        if webhook_url is not _UNSET:
            _check_webhook_url(webhook_url, targets)
            changes["webhook_url"] = webhook_url
        changed = dataclasses.replace(partner, **changes)
        events: list[Envelope[Any]] = []
        if partner.active and (changed.service, changed.name) != (partner.service, partner.name):
            # A removed service is announced stopped under the identity it had.
            events = _announce(changed) if changed.service else _announce(partner, active=False)
        await uow.save_partner(changed, events)
    return changed


async def deactivate(
    start: UnitOfWorkStarter[PartnersUnitOfWork], partner_id: uuid.UUID
) -> Partner:
    """Stop a partner: its key no longer works, its feed stops, its service stops."""
    async with start() as uow:
        partner = await uow.partner(partner_id)
        if partner is None:
            raise UnknownPartner(str(partner_id))
        if not partner.active:
            return partner
        stopped = dataclasses.replace(partner, active=False)
        await uow.save_partner(stopped, _announce(stopped))
    return stopped


async def rotate_webhook_secret(
    start: UnitOfWorkStarter[PartnersUnitOfWork],
    partner_id: uuid.UUID,
    *,
    window: timedelta,
    now: datetime,
) -> str:
    """Issue a new webhook secret, shown this once. Until ``now + window`` every webhook
    is signed with the previous secret as well, so the partner can switch without a gap."""
    secret = keys.new_webhook_secret()
    async with start() as uow:
        rotated = await uow.rotate_webhook_secret(partner_id, secret, now + window)
    if not rotated:
        raise UnknownPartner(str(partner_id))
    return secret


def _check_webhook_url(url: str | None, targets: TargetPolicy | None) -> None:
    if url is None:
        return
    try:
        (targets or TargetPolicy()).check_url(url)
    except RefusedTarget as refused:
        raise ScopeError("webhook_url", str(refused)) from refused
