"""A person's side of the ledger: balance, statement, earnings, gifts, pots."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from services.ledger.entrypoints.http import schemas
from services.ledger.entrypoints.http.deps import Ctx, Me
from services.ledger.service_layer import commands
from services.ledger.service_layer.ports import NotFound
from shared.contracts import utc_now

router = APIRouter(prefix="/v1", tags=["people"])


class GiftBody(BaseModel):
    """Hours to give into a community's pot."""

    model_config = ConfigDict(extra="forbid")

    community_id: str = Field(min_length=1, max_length=64)
    hours: int = Field(strict=True, ge=1, le=100)


class PotRequestBody(BaseModel):
    """Ask for one of my requests to be covered from my community's pot."""

    model_config = ConfigDict(extra="forbid")

    request_id: uuid.UUID
    neighbourhood: str = Field(min_length=1, max_length=32)


def line(entry: Any) -> dict[str, Any]:
    """A statement line as JSON."""
    return {
        "entry_id": entry.entry_id,
        "posting_id": str(entry.posting_id),
        "kind": entry.kind,
        "mode": entry.mode,
        "account": entry.account.rsplit(":", 1)[-1],
        "unit": entry.unit,
        "amount": entry.amount,
        "occurred_at": entry.occurred_at.isoformat(),
        "booking_id": None if entry.booking_id is None else str(entry.booking_id),
        "memo": entry.memo,
        "corrects": None if entry.corrects is None else str(entry.corrects),
    }


@router.get("/me/ledger", response_model=schemas.Balance)
async def my_balance(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """My balance: hours given and received, time credits, and per currency what I earned,
    was charged, spent for others (expenses), paid and was paid out. Derived from entries."""
    return await ctx.queries.summary(f"person:{person_id}")


@router.get("/me/ledger/statement", response_model=schemas.Statement)
async def my_statement(
    ctx: Ctx,
    person_id: Me,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, description="an entry id, to page back")] = None,
) -> dict[str, Any]:
    """Every entry on my accounts, newest first (``hour`` amounts in minutes, money in minor
    units); a correction shows beside what it corrects, never instead of it."""
    lines = await ctx.queries.statement(f"person:{person_id}", limit=limit, before=before)
    return {
        "items": [line(entry) for entry in lines],
        "next_before": lines[-1].entry_id if len(lines) == limit else None,
    }


@router.get("/me/ledger/earnings", response_model=schemas.Earnings)
async def my_earnings(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """As a helper, by month: hours given and money earned."""
    return {"months": await ctx.queries.earnings_by_month(person_id)}


@router.post("/me/ledger/gifts", status_code=201, response_model=schemas.Gift)
async def give(body: GiftBody, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Give hours of my time credits into a community's pot."""
    posting = await commands.give_hours(
        ctx.start,
        giver=f"person:{person_id}",
        community_id=body.community_id,
        hours=body.hours,
        now=utc_now(),
    )
    return {"posting_id": str(posting.posting_id), "pot": await ctx.queries.pot(body.community_id)}


@router.post("/me/ledger/pot-requests", status_code=201, response_model=schemas.PotAsked)
async def ask_pot(body: PotRequestBody, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Ask for a request of mine to be covered from my neighbourhood's pot (an operator
    approves it where the community's rule is approval)."""
    community = await ctx.communities.community_of(body.neighbourhood)
    created = await ctx.communities.ask_pot(body.request_id, person_id, community)
    return {"request_id": str(body.request_id), "community_id": community, "new": created}


@router.get("/communities/{community_id}/pot", response_model=schemas.Pot)
async def pot(community_id: str, ctx: Ctx, _: Me) -> dict[str, Any]:
    """A community's pot of gifted hours: in it, given, drawn."""
    return await ctx.queries.pot(community_id)


@router.get("/neighbourhoods/{neighbourhood}/community", response_model=schemas.CommunityView)
async def community_of(
    neighbourhood: Annotated[str, Path(min_length=1, max_length=32)], ctx: Ctx, _: Me
) -> dict[str, Any]:
    """How hours are paid for where a neighbourhood cell is (``neighbourhood`` from booking's
    ``GET /v1/me``): its community's modes and rules, and its pot."""
    community_id = await ctx.communities.community_of(neighbourhood)
    async with ctx.start() as uow:
        community = await uow.community(community_id)
    if community is None:
        raise NotFound(f"no community {community_id}")
    return {
        "community_id": community.community_id,
        "modes": sorted(str(mode) for mode in community.modes),
        "currency": community.currency,
        "pot_rule": str(community.pot_rule),
        "monthly_allowance_hours": community.monthly_allowance_hours,
        "mileage_rate": community.mileage_rate,
        "pot": await ctx.queries.pot(community.community_id),
    }
