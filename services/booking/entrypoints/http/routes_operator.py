"""What operators (community coordinators) do through the API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.booking.domain.visits import RequestStatus
from services.booking.entrypoints.http.dependencies import Ctx, Operator
from services.booking.entrypoints.http.schemas import VettingBody
from services.booking.service_layer import requests, trust

router = APIRouter(prefix="/v1/operator", tags=["operators"], dependencies=[Operator])


@router.post("/people/{person_id}/vetting-steps", status_code=201)
async def record_vetting_step(person_id: uuid.UUID, body: VettingBody, ctx: Ctx) -> dict[str, Any]:
    """Record that a helper passed a vetting step."""
    return await trust.record_vetting_step(ctx.uow, person_id, body.step)


@router.get("/people/{person_id}")
async def person(person_id: uuid.UUID, ctx: Ctx) -> dict[str, Any]:
    """A person's profile and standing: suspended or not, and the skills approved until when."""
    return await trust.person_for_operators(ctx.uow, person_id)


@router.get("/requests")
async def requests_by_status(
    ctx: Ctx,
    status: RequestStatus = RequestStatus.UNMATCHED,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The waiting list: requests in a status (unmatched by default), oldest first."""
    return await requests.waiting_list(ctx.uow, status.value, limit, cursor)


@router.get("/relationships")
async def relationships(ctx: Ctx, person_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Trust's full pair records, of one person or of everyone."""
    return {"items": await trust.all_relationships(ctx.uow, person_id)}


@router.get("/bookings/flagged")
async def flagged_bookings(ctx: Ctx) -> dict[str, Any]:
    """Upcoming bookings of helpers trust has suspended."""
    return {"items": await trust.flagged_bookings(ctx.uow)}
