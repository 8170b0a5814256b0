"""Safeguarding concerns: people and operators raise them, operators resolve them.

Booking only records and forwards: each change is written to booking's ``concerns`` table
and its event to the outbox in one transaction, and trust (on ``kith.concerns.v1``) decides
what follows — a suspension at once, then reinstatement or removal.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from services.booking.adapters.repository import Repository
from services.booking.domain.errors import Conflict, NotFound
from services.booking.entrypoints.http.dependencies import Ctx, Me, Operator
from services.booking.entrypoints.http.schemas import Body
from services.booking.service_layer import concerns as concern_rules
from shared.contracts import Envelope, utc_now
from shared.contracts.trust import ConcernOutcome, ConcernRaised, ConcernResolved, RaisedBy
from shared.http_limits import client_address, enforce

PRODUCER = "booking"

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

    OPEN = "open"
    RESOLVED = "resolved"


@router.post("/concerns", status_code=201)
async def raise_concern(
    body: ConcernBody, ctx: Ctx, person_id: Me, request: Request
) -> dict[str, Any]:
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
    event = await concern_rules.raise_concern(
        ctx.uow,
        person_id,
        body.about_id,
        body.booking_id,
        body.summary,
        utc_now(),
        ctx.settings,
    )
    return {"concern_id": event.concern_id, "about_id": event.about_id, "status": "open"}


@router.post("/operator/concerns", status_code=201, dependencies=[Operator])
async def operator_raises(body: ConcernBody, ctx: Ctx) -> dict[str, Any]:
    """Raise a concern about a person (an operator's own, or one reported to them)."""
    async with ctx.uow.begin() as repo:
        if await repo.person(body.about_id) is None:
            raise NotFound("no such person")
        if body.booking_id is not None and not await _in_booking(
            repo, body.booking_id, body.about_id
        ):
            raise NotFound("no such booking of that person")
        event = ConcernRaised(
            concern_id=uuid.uuid4(),
            about_id=body.about_id,
            raised_by_role=RaisedBy.OPERATOR,
            booking_id=body.booking_id,
        )
        await concern_rules.record(repo, event, body.summary, utc_now())
    return {"concern_id": event.concern_id, "about_id": event.about_id, "status": "open"}


@router.post("/operator/concerns/{concern_id}/resolve", dependencies=[Operator])
async def resolve(concern_id: uuid.UUID, body: ResolveBody, ctx: Ctx) -> dict[str, Any]:
    """Reinstate the person, or remove them (they stay suspended; their pairs end)."""
    async with ctx.uow.begin() as repo:
        row = await repo.conn.fetchrow(
            "SELECT about_id, status FROM concerns WHERE concern_id = $1 FOR UPDATE", concern_id
        )
        if row is None:
            raise NotFound("no such concern")
        if row["status"] != ConcernStatus.OPEN:
            raise Conflict("the concern is already resolved")
        event = ConcernResolved(
            concern_id=concern_id,
            about_id=row["about_id"],
            outcome=body.outcome,
            resolved_by="operator",
        )
        await repo.conn.execute(
            "UPDATE concerns SET status = 'resolved', outcome = $2, reason = $3,"
            " resolved_by = $4, resolved_at = $5 WHERE concern_id = $1",
            concern_id,
            body.outcome.value,
            body.reason,
            event.resolved_by,
            utc_now(),
        )
        await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return {"concern_id": concern_id, "status": "resolved", "outcome": body.outcome}


@router.get("/operator/concerns", dependencies=[Operator])
async def concerns(
    ctx: Ctx,
    status: ConcernStatus = ConcernStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Concerns in a status (open by default), oldest first; ``raised_by_count`` is how many
    concerns the person who raised each one has raised in all (null for an operator's)."""
    return {"items": await concern_rules.listed(ctx.uow, status.value, limit)}


async def _in_booking(repo: Repository, booking_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    booking = await repo.booking(booking_id)
    return booking is not None and person_id in (booking["helper_id"], booking["neighbour_id"])
