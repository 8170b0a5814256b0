"""Operators' side of the ledger: communities and their modes, payers, pot approvals,
corrections, a person's balance, weekly totals and reconciliation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.ledger.domain.communities import Community, PotRule
from services.ledger.domain.postings import Mode
from services.ledger.entrypoints.http.deps import Acting, Ctx, Operator
from services.ledger.entrypoints.http.routes_me import line
from services.ledger.service_layer import commands
from shared.contracts import utc_now
from shared.contracts.skills import Skill

router = APIRouter(prefix="/v1/operator/ledger", tags=["operators"], dependencies=[Operator])

Owner = Annotated[str, Field(pattern=r"^(person|partner):[0-9a-f-]{36}$")]


class CommunityBody(BaseModel):
    """How one community's hours are paid for (see README, "How hours are paid for")."""

    model_config = ConfigDict(extra="forbid")

    modes: list[Mode] = Field(max_length=3)
    cells: list[str] | None = Field(
        default=None, max_length=1000, description="its neighbourhood cells; left out: kept"
    )
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")
    rates: dict[Skill, int] = Field(
        default_factory=dict, description="minor units per hour, per skill (paid mode)"
    )
    payer: Owner | None = Field(
        default=None, description="a partner's budget paying for every paid visit here"
    )
    pot_rule: PotRule = PotRule.APPROVAL
    monthly_allowance_hours: int = Field(default=0, ge=0, le=744)
    late_cancel_percent: int = Field(default=0, ge=0, le=100)
    mileage_rate: int = Field(default=0, ge=0, le=10_000, description="minor units per mile")


class PayerBody(BaseModel):
    """Who pays for a neighbour's paid visits: a family member or a partner's budget."""

    model_config = ConfigDict(extra="forbid")

    payer: Owner | None


class DecisionBody(BaseModel):
    """An operator's decision on a request to be covered from a pot."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "refuse"]
    operator: str | None = Field(
        default=None,
        max_length=80,
        description="Ignored: the decision is recorded under the signed-in operator's name.",
    )


class CorrectionBody(BaseModel):
    """Reverse a posting with a new one; why, for the statement."""

    model_config = ConfigDict(extra="forbid")

    memo: str = Field(min_length=1, max_length=200)


def _community_json(community: Community, cells: list[str]) -> dict[str, Any]:
    return {
        "community_id": community.community_id,
        "modes": sorted(str(mode) for mode in community.modes),
        "cells": cells,
        "currency": community.currency,
        "rates": community.rates,
        "payer": community.payer,
        "pot_rule": str(community.pot_rule),
        "monthly_allowance_hours": community.monthly_allowance_hours,
        "late_cancel_percent": community.late_cancel_percent,
        "mileage_rate": community.mileage_rate,
    }


@router.put("/communities/{community_id}")
async def set_community(
    community_id: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")],
    body: CommunityBody,
    ctx: Ctx,
) -> dict[str, Any]:
    """Set how a community's hours are paid for, and which cells it covers."""
    if Mode.PAID in body.modes and not body.rates:
        raise HTTPException(422, "rates: paid mode needs a rate for at least one skill")
    community = Community(
        community_id=community_id,
        modes=frozenset(body.modes),
        currency=body.currency,
        rates={str(skill): rate for skill, rate in body.rates.items()},
        payer=body.payer,
        pot_rule=body.pot_rule,
        monthly_allowance_hours=body.monthly_allowance_hours,
        late_cancel_percent=body.late_cancel_percent,
        mileage_rate=body.mileage_rate,
    )
    await ctx.communities.save(community, body.cells)
    return _community_json(community, body.cells or [])


@router.get("/communities")
async def communities(ctx: Ctx) -> dict[str, Any]:
    """Every community, its modes, cells and partners, and its pot."""
    items = []
    partners = await ctx.communities.partners_by_community()
    for community, cells in await ctx.communities.all():
        items.append(
            {
                **_community_json(community, cells),
                "partners": partners.get(community.community_id, []),
                "pot": await ctx.queries.pot(community.community_id),
            }
        )
    return {"items": items}


class PartnerCommunityBody(BaseModel):
    """The community whose rules a partner's referred visits follow."""

    model_config = ConfigDict(extra="forbid")

    community_id: str | None = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$",
        description="a community set up already; null: by each visit's neighbourhood cell",
    )


@router.put("/partners/{partner_id}")
async def set_partner_community(
    partner_id: uuid.UUID, body: PartnerCommunityBody, ctx: Ctx
) -> dict[str, Any]:
    """Make a community a partner's: a visit that came through this partner's referral is
    posted under its rules (a partner with none: the visit's neighbourhood's)."""
    if body.community_id is not None and not await ctx.communities.exists(body.community_id):
        raise HTTPException(422, "community_id: no such community (set it up first)")
    await ctx.communities.set_partner_community(partner_id, body.community_id)
    return {"partner_id": str(partner_id), "community_id": body.community_id}


@router.put("/payers/{neighbour_id}")
async def set_payer(neighbour_id: uuid.UUID, body: PayerBody, ctx: Ctx) -> dict[str, Any]:
    """Who pays for this neighbour's paid visits (``null``: the neighbour)."""
    await ctx.communities.set_payer(neighbour_id, body.payer)
    return {"neighbour_id": str(neighbour_id), "payer": body.payer}


@router.get("/pot-requests")
async def pot_requests(
    ctx: Ctx,
    status: Literal["pending", "approved", "refused"] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Requests asked to be covered from a pot, oldest first: the approvals waiting."""
    rows = await ctx.communities.pot_requests(status, limit)
    return {
        "items": [
            {
                key: (str(value) if isinstance(value, uuid.UUID) else value)
                if not isinstance(value, datetime)
                else value.isoformat()
                for key, value in row.items()
            }
            for row in rows
        ]
    }


@router.post("/pot-requests/{request_id}")
async def decide(
    request_id: uuid.UUID, body: DecisionBody, ctx: Ctx, who: Acting
) -> dict[str, Any]:
    """Approve or refuse covering a request from its community's pot."""
    changed = await ctx.communities.decide_pot(
        request_id,
        approve=body.decision == "approve",
        operator=who.name if who else "kith",
        at=utc_now(),
    )
    if not changed:
        raise HTTPException(409, "no pending pot request with this id")
    return {"request_id": str(request_id), "status": f"{body.decision}d"}


@router.post("/postings/{posting_id}/corrections", status_code=201)
async def correct(posting_id: uuid.UUID, body: CorrectionBody, ctx: Ctx) -> dict[str, Any]:
    """Correct a posting by posting its reversal (the original stays on every statement)."""
    correction = await commands.correct(ctx.start, posting_id, memo=body.memo, now=utc_now())
    return {"posting_id": str(correction.posting_id), "corrects": str(posting_id)}


@router.get("/owners/{owner}")
async def owner_balance(owner: str, ctx: Ctx) -> dict[str, Any]:
    """Anyone's balance (``person:<id>``, ``partner:<id>``), with their latest entries."""
    lines = await ctx.queries.statement(owner, limit=50)
    return {**await ctx.queries.summary(owner), "latest": [line(entry) for entry in lines]}


@router.get("/totals")
async def totals(ctx: Ctx, since: AwareDatetime, until: AwareDatetime) -> dict[str, Any]:
    """Hours given, received, gifted and paid between two moments, and whether every unit's
    entries summed to zero at ``until``."""
    if until <= since:
        raise HTTPException(422, "until: must be after since")
    return await ctx.queries.totals(since, until)


@router.get("/trial-balance")
async def trial_balance(ctx: Ctx) -> dict[str, Any]:
    """The sum of every entry per unit: all zero when the ledger balances."""
    balance = await ctx.queries.trial_balance()
    return {"units": balance, "balanced": all(total == 0 for total in balance.values())}
