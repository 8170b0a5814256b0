"""What a partner does with its API key: see its scopes, send events, read back refusals
and its webhook delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from services.partners.entrypoints.http.dependencies import Ctx, Me
from services.partners.entrypoints.http.problems import problem
from services.partners.entrypoints.http.schemas import (
    AcceptedOut,
    AttemptOut,
    PartnerOut,
    RejectionOut,
)
from services.partners.service_layer.inbox import Accepted, ApiKey, Source, receive
from shared.contracts.codec import MAX_EVENT_BYTES

router = APIRouter(prefix="/v1", tags=["partners"])

Limit = Annotated[int, Query(ge=1, le=500)]

_ENVELOPE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One event in the Kith envelope: partner.person_referred, "
        "partner.offer_answered or vetting.step_recorded (see the AsyncAPI document).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.get("/me")
async def me(partner: Me) -> PartnerOut:
    """The calling partner: its scopes, its feed topic and its service."""
    return PartnerOut.of(partner)


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_ENVELOPE_BODY,
    response_model=AcceptedOut,
)
async def send_event(request: Request, partner: Me, ctx: Ctx) -> AcceptedOut | JSONResponse:
    """Send one event over HTTP, checked exactly as on the inbox topic. Sending the same
    event id again is answered with the same result and publishes nothing twice."""
    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        return problem(413, "Too large", f"an event is at most {MAX_EVENT_BYTES} bytes")
    api_key = request.headers["authorization"].partition(" ")[2].strip()
    outcome = await receive(ctx.start, body, ApiKey(api_key), Source("http"))
    if isinstance(outcome, Accepted):
        return AcceptedOut(event_id=outcome.event_id, topic=outcome.topic)
    return problem(
        422, "Event refused", outcome.reason, [{"field": "<event>", "reason": outcome.reason}]
    )


@router.get("/rejections")
async def rejections(partner: Me, ctx: Ctx, limit: Limit = 100) -> list[RejectionOut]:
    """Your refused messages, newest first, each with the reason."""
    async with ctx.start() as uow:
        found = await uow.rejections(partner.partner_id, limit)
    return [RejectionOut.of(r) for r in found]


@router.get("/deliveries")
async def deliveries(partner: Me, ctx: Ctx, limit: Limit = 100) -> list[AttemptOut]:
    """Your webhook delivery log, newest attempt first."""
    async with ctx.start() as uow:
        found = await uow.attempts(partner.partner_id, limit)
    return [AttemptOut.of(a) for a in found]
