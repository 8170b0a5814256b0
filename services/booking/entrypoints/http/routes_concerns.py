"""Safeguarding concerns: people and operators raise them, operators resolve them.

Booking only records and forwards (``service_layer.concerns``): each change is written to
booking's ``concerns`` table and its event to the outbox in one transaction, and trust (on
``kith.concerns.v1``) decides what follows — a suspension at once, then reinstatement or
removal.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from services.booking.entrypoints.http.audit import ViewReason, recorded
from services.booking.entrypoints.http.dependencies import Acts, Ctx, Lead, Me
from services.booking.entrypoints.http.idempotency import OPERATORS, IdempotencyKey, idempotent
from services.booking.entrypoints.http.schemas import Body
from services.booking.service_layer import concerns as concern_rules
from services.booking.service_layer.pages import offset_page
from shared.contracts import utc_now
from shared.contracts.trust import ConcernOutcome, ConcernRaised
from shared.http_limits import client_address, enforce

router = APIRouter(prefix="/v1", tags=["concerns"])


class ConcernBody(Body):
    """A concern about someone: what happened, and the visit it happened on if any."""

    about_id: uuid.UUID
    booking_id: uuid.UUID | None = None
    summary: str = Field(min_length=1, max_length=2000)


class ResolveBody(Body):
    """An operator's decision on a concern, with the reason kept on record."""

    outcome: ConcernOutcome
    reason: str = Field(min_length=1, max_length=2000)


class ConcernStatus(StrEnum):
    """Which concerns operators list."""

    OPEN = concern_rules.OPEN
    RESOLVED = "resolved"


@router.post("/concerns", status_code=201, response_model=None)
async def raise_concern(
    body: ConcernBody, ctx: Ctx, person_id: Me, request: Request, key: IdempotencyKey = None
) -> Response:
    """Raise a concern about someone you have a visit booked with, or had one with recently
    (``KITH_CONCERN_WINDOW_DAYS``); they are suspended at once.

    Answers 404 when there is no such visit between you (the same as for an unknown person),
    and 429 with ``Retry-After`` past ``KITH_CONCERN_LIMIT`` concerns in
    ``KITH_CONCERN_LIMIT_WINDOW_H`` hours, or past the rate limits per client address and
    per person (``KITH_RATE_CONCERNS_*``).
    """
    await enforce(
        ctx.limiter,
        ctx.settings,
        "concerns",
        address=client_address(request),
        account=str(person_id),
    )

    async def create() -> dict[str, Any]:
        event = await concern_rules.raise_concern(
            ctx.uow,
            person_id,
            body.about_id,
            body.booking_id,
            body.summary,
            utc_now(),
            ctx.settings,
        )
        return _raised(event)

    return await idempotent(ctx, request, person_id, key, body, 201, create)


@router.post("/operator/concerns", status_code=201, tags=["operators"], response_model=None)
async def operator_raises(
    body: ConcernBody, ctx: Ctx, who: Acts, request: Request, key: IdempotencyKey = None
) -> Response:
    """Raise a concern about a person (an operator's own, or one reported to them)."""

    async def create() -> dict[str, Any]:
        async with recorded(
            ctx, who, "concern.raise", subject_kind="person", subject_id=body.about_id
        ) as entry:
            event = await concern_rules.raise_for_operator(
                ctx.uow, body.about_id, body.booking_id, body.summary, utc_now()
            )
            entry["concern_id"] = str(event.concern_id)
        return _raised(event)

    return await idempotent(ctx, request, OPERATORS, key, body, 201, create)


@router.post("/operator/concerns/{concern_id}/resolve", tags=["operators"])
async def resolve(concern_id: uuid.UUID, body: ResolveBody, ctx: Ctx, who: Lead) -> dict[str, Any]:
    """Safeguarding leads: reinstate the person, or remove them (they stay suspended; their
    pairs end), with the reason.

    Resolving twice is a 409: the first decision stands.
    """
    async with recorded(
        ctx,
        who,
        "concern.resolve",
        subject_kind="concern",
        subject_id=concern_id,
        reason=body.reason,
        details={"outcome": body.outcome.value},
    ):
        await concern_rules.resolve(
            ctx.uow, concern_id, body.outcome, body.reason, utc_now(), by=who.stamp
        )
    return {"concern_id": concern_id, "status": "resolved", "outcome": body.outcome}


@router.get("/operator/concerns", tags=["operators"])
async def concerns(
    ctx: Ctx,
    who: Acts,
    status: ConcernStatus = ConcernStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    reason: ViewReason = None,
) -> dict[str, Any]:
    """Concerns in a status (open by default), oldest first, a page at a time (``next_offset``
    is null on the last page); ``raised_by_count`` is how many concerns the person who raised
    each one has raised in all (null for an operator's). Their summaries are personal: the
    view goes on the audit trail."""
    async with recorded(ctx, who, "concerns.view", reason=reason) as seen:
        items = await concern_rules.listed(ctx.uow, status.value, limit + 1, offset)
        seen["concerns"] = [str(item["concern_id"]) for item in items[:limit]]
    return offset_page(items, limit, offset)


def _raised(event: ConcernRaised) -> dict[str, Any]:
    return {"concern_id": event.concern_id, "about_id": event.about_id, "status": "open"}
