"""Operators register partners and change what they may do."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, status

from services.partners.entrypoints.http.dependencies import Ctx, Operator, target_policy
from services.partners.entrypoints.http.schemas import (
    PartnerIn,
    PartnerOut,
    PartnerPatch,
    RegistrationOut,
    ScopesIn,
    ServiceIn,
    WebhookSecretOut,
)
from services.partners.service_layer import registry
from services.partners.service_layer.registry import ScopeRequest, ServiceRequest, UnknownPartner
from shared.contracts import utc_now

router = APIRouter(prefix="/v1/partners", tags=["operators"], dependencies=[Operator])


def _scopes(body: ScopesIn) -> ScopeRequest:
    return ScopeRequest(
        read_streams=tuple(body.read_streams), fields=body.fields, send=tuple(body.send)
    )


def _service(body: ServiceIn | None) -> ServiceRequest | None:
    if body is None:
        return None
    return ServiceRequest(skills=tuple(body.skills), neighbourhoods=tuple(body.neighbourhoods))


@router.post("", status_code=status.HTTP_201_CREATED)
async def register_partner(body: PartnerIn, ctx: Ctx) -> RegistrationOut:
    """Register a partner. The API key and webhook secret are in this answer only: Kith
    keeps the key as a hash and cannot show it again."""
    registration = await registry.register(
        ctx.start,
        ctx.feeds,
        name=body.name,
        scopes=_scopes(body.scopes),
        service=_service(body.service),
        safeguarding_neighbourhoods=body.safeguarding_neighbourhoods,
        webhook_url=None if body.webhook_url is None else str(body.webhook_url),
        targets=target_policy(ctx.settings),
    )
    ctx.on_partners_changed()
    return RegistrationOut(
        **PartnerOut.of(registration.partner).model_dump(),
        api_key=registration.api_key,
        webhook_secret=registration.webhook_secret,
    )


@router.get("")
async def list_partners(ctx: Ctx) -> list[PartnerOut]:
    """Every partner, active or not."""
    async with ctx.start() as uow:
        partners = await uow.partners()
    return [PartnerOut.of(partner) for partner in partners]


@router.get("/{partner_id}")
async def get_partner(partner_id: uuid.UUID, ctx: Ctx) -> PartnerOut:
    """One partner."""
    async with ctx.start() as uow:
        partner = await uow.partner(partner_id)
    if partner is None:
        raise UnknownPartner(str(partner_id))
    return PartnerOut.of(partner)


@router.patch("/{partner_id}")
async def change_partner(partner_id: uuid.UUID, body: PartnerPatch, ctx: Ctx) -> PartnerOut:
    """Change a partner's name, scopes, service, safeguarding areas or webhook; a field left
    out stays, ``null`` removes it. A changed service is announced to matching and booking."""
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in given and body.name is not None:
        changes["name"] = body.name
    if "scopes" in given:
        changes["scopes"] = _scopes(body.scopes or ScopesIn())
    if "service" in given:
        changes["service"] = _service(body.service)
    if "safeguarding_neighbourhoods" in given:
        changes["safeguarding_neighbourhoods"] = body.safeguarding_neighbourhoods or []
    if "webhook_url" in given:
        changes["webhook_url"] = None if body.webhook_url is None else str(body.webhook_url)
    partner = await registry.update(
        ctx.start, partner_id, targets=target_policy(ctx.settings), **changes
    )
    ctx.on_partners_changed()
    return PartnerOut.of(partner)


@router.delete("/{partner_id}")
async def deactivate_partner(partner_id: uuid.UUID, ctx: Ctx) -> PartnerOut:
    """Deactivate a partner: its key stops working, its feed stops, its service stops."""
    partner = await registry.deactivate(ctx.start, partner_id)
    ctx.on_partners_changed()
    return PartnerOut.of(partner)


@router.post("/{partner_id}/webhook-secret", status_code=status.HTTP_201_CREATED)
async def rotate_webhook_secret(partner_id: uuid.UUID, ctx: Ctx) -> WebhookSecretOut:
    """Issue a new webhook secret, shown in this answer only. Until ``previous_valid_until``
    each webhook carries a signature with the previous secret as well, so the partner's
    receiver keeps verifying while it switches to the new one."""
    now = utc_now()
    window = timedelta(seconds=ctx.settings.webhook_rotation_window_s)
    secret = await registry.rotate_webhook_secret(ctx.start, partner_id, window=window, now=now)
    return WebhookSecretOut(webhook_secret=secret, previous_valid_until=now + window)
