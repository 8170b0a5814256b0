"""Accounts, profiles, availability and relationships."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.booking.domain.availability import WeeklyRule
from services.booking.entrypoints.http.dependencies import Ctx, Me
from services.booking.entrypoints.http.schemas import AvailabilityBody, SignInBody, SignUpBody
from services.booking.service_layer import accounts, trust
from services.booking.service_layer.commands import SetAvailability, SignUp
from shared.contracts import utc_now

router = APIRouter(prefix="/v1", tags=["people"])


@router.post("/people", status_code=201)
async def sign_up(body: SignUpBody, ctx: Ctx) -> dict[str, Any]:
    """Open an account (one account both gives and receives help)."""
    person_id, token = await accounts.sign_up(
        ctx.uow,
        SignUp(
            display_name=body.display_name,
            email=body.email,
            password=body.password,
            lat=body.home.lat,
            lng=body.home.lng,
            address=body.home.address,
            phone=body.home.phone,
            time_zone=body.time_zone,
            skills=body.skills,
            travel_radius_km=body.travel_radius_km,
            weekly_hour_cap=body.weekly_hour_cap,
            languages=body.languages,
        ),
    )
    return {"person_id": person_id, "token": token}


@router.post("/sessions")
async def sign_in(body: SignInBody, ctx: Ctx) -> dict[str, Any]:
    """Sign in: a new bearer token."""
    person_id, token = await accounts.sign_in(ctx.uow, body.email, body.password)
    return {"person_id": person_id, "token": token}


@router.get("/me")
async def me(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """My profile."""
    return await accounts.me(ctx.uow, person_id)


@router.put("/me/availability")
async def set_availability(body: AvailabilityBody, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Replace my weekly hours (local time); they are expanded over the next 28 days."""
    rules = [
        WeeklyRule(rule.weekday, int(rule.start[:2]), int(rule.end[:2])) for rule in body.rules
    ]
    return await accounts.set_availability(
        ctx.uow, SetAvailability(person_id=person_id, rules=rules), utc_now()
    )


@router.get("/me/availability")
async def get_availability(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """My weekly rules and the UTC hours they expand to."""
    return await accounts.get_availability(ctx.uow, person_id)


@router.get("/me/relationships")
async def my_relationships(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """The people I have met and keep meeting."""
    return {"items": await trust.my_relationships(ctx.uow, person_id)}
