"""Accounts, profiles, availability and relationships."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from services.booking.domain.availability import Away, DatedException, ExtraHours, WeeklyRule
from services.booking.domain.errors import Invalid
from services.booking.domain.rejoining import contact_key
from services.booking.entrypoints.http.dependencies import Context, Ctx, Me, Token
from services.booking.entrypoints.http.idempotency import (
    ANONYMOUS,
    IdempotencyKey,
    Replay,
    idempotent,
)
from services.booking.entrypoints.http.schemas import (
    AvailabilityBody,
    AwayBody,
    ProfilePatch,
    SignInBody,
    SignUpBody,
)
from services.booking.service_layer import accounts, trust
from services.booking.service_layer.commands import SetAvailability, SignUp, UpdateProfile
from services.booking.service_layer.pages import offset_page
from shared.contracts import utc_now
from shared.http_limits import client_address, enforce

router = APIRouter(prefix="/v1", tags=["people"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.post("/people", status_code=201, response_model=None)
async def sign_up(
    body: SignUpBody, ctx: Ctx, request: Request, key: IdempotencyKey = None
) -> Response:
    """Open an account (one account both gives and receives help), with an email, a mobile
    phone number (E.164), or both: at least one, each unique to one account (a 409 when
    taken). Limited per client address and per email or phone (``KITH_RATE_SIGN_UP_*``):
    past either, a 429 with ``Retry-After``."""
    account = body.email or body.phone
    if account is None:
        raise Invalid("email", "give an email or a mobile phone number (phone), or both")
    await enforce(
        ctx.limiter, ctx.settings, "sign_up", address=client_address(request), account=account
    )
    # Hashed before the idempotency record's transaction opens: it takes tens of
    # milliseconds, and a transaction held meanwhile would hold its connection and locks.
    password_hash = await ctx.passwords.hash(body.password)

    async def create() -> dict[str, Any]:
        person_id, token = await accounts.sign_up(
            ctx.uow,
            SignUp(
                display_name=body.display_name,
                email=body.email,
                password_hash=password_hash,
                lat=body.home.lat,
                lng=body.home.lng,
                address=body.home.address,
                phone=body.home.phone,
                sign_in_phone=body.phone,
                time_zone=body.time_zone,
                skills=body.skills,
                travel_radius_km=body.travel_radius_km,
                weekly_hour_cap=body.weekly_hour_cap,
                languages=body.languages,
            ),
            contact_key(ctx.idempotency_secret),
            verification_ttl_s=ctx.settings.email_verification_ttl_s,
        )
        return {"person_id": person_id, "token": token}

    return await idempotent(ctx, request, ANONYMOUS, key, body, 201, create, _fresh_token(ctx))


@router.post("/sessions", response_model=None)
async def sign_in(
    body: SignInBody, ctx: Ctx, request: Request, key: IdempotencyKey = None
) -> Response:
    """Sign in with an email or a mobile phone number (the email is used when both are
    given) and the password: a new bearer token (a retry with the same ``Idempotency-Key``
    gets another). Limited per client address and per email or phone
    (``KITH_RATE_SIGN_IN_*``): past either, a 429 with ``Retry-After``, whether the password
    is right or not."""
    if body.email is None and body.phone is None:
        raise Invalid("email", "give your email or your mobile phone number (phone)")
    await enforce(
        ctx.limiter, ctx.settings, "sign_in", address=client_address(request), account=body.account
    )
    person_id = await accounts.check_password(
        ctx.uow, ctx.passwords, body.email, body.password, phone=body.phone
    )

    async def create() -> dict[str, Any]:
        person_id_, token = await accounts.open_session(ctx.uow, person_id)
        return {"person_id": person_id_, "token": token}

    return await idempotent(ctx, request, ANONYMOUS, key, body, 200, create, _fresh_token(ctx))


def _fresh_token(ctx: Context) -> Replay:
    """Keep only the person's id of an answer with a token; a retry gets a token of its own."""

    async def again(kept: dict[str, Any]) -> dict[str, Any]:
        person_id, token = await accounts.open_session(ctx.uow, uuid.UUID(kept["person_id"]))
        return {"person_id": person_id, "token": token}

    return Replay(keep=lambda answer: {"person_id": answer["person_id"]}, again=again)


@router.delete("/sessions/current", status_code=204, response_class=Response)
async def sign_out(ctx: Ctx, person_id: Me, token: Token) -> Response:
    """Sign out: this token stops working at once; other devices stay signed in."""
    await accounts.sign_out(ctx.uow, person_id, token, ctx.sessions)
    return Response(status_code=204)


@router.delete("/sessions", status_code=204, response_class=Response)
async def sign_out_everywhere(ctx: Ctx, person_id: Me) -> Response:
    """Sign out everywhere (a lost phone, say): every token of mine stops working at once."""
    await accounts.sign_out_everywhere(ctx.uow, person_id, ctx.sessions)
    return Response(status_code=204)


@router.get("/me")
async def me(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """My profile."""
    return await accounts.me(ctx.uow, person_id)


@router.patch("/me")
async def update_me(body: ProfilePatch, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Change my profile; fields left out stay as they are. The public part is published."""
    home = body.home
    return await accounts.update_profile(
        ctx.uow,
        UpdateProfile(
            person_id=person_id,
            display_name=body.display_name,
            languages=body.languages,
            accessibility_notes=body.accessibility_notes,
            lat=home.lat if home else None,
            lng=home.lng if home else None,
            address=home.address if home else None,
            phone=home.phone if home else None,
            time_zone=body.time_zone,
            skills=body.skills,
            travel_radius_km=body.travel_radius_km,
            weekly_hour_cap=body.weekly_hour_cap,
        ),
    )


@router.put("/me/availability")
async def set_availability(body: AvailabilityBody, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Replace my weekly hours (local time) and dated exceptions. They hold until I change
    them, for any date; ``hours`` previews the next 28 days' free hours."""
    rules = [
        WeeklyRule(rule.weekday, int(rule.start[:2]), int(rule.end[:2])) for rule in body.rules
    ]
    exceptions: list[DatedException] = [
        Away(item.first_day, item.last_day)
        if isinstance(item, AwayBody)
        else ExtraHours(item.day, int(item.start[:2]), int(item.end[:2]))
        for item in body.exceptions
    ]
    return await accounts.set_availability(
        ctx.uow,
        SetAvailability(person_id=person_id, rules=rules, exceptions=exceptions),
        utc_now(),
    )


@router.get("/me/availability")
async def get_availability(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """My weekly rules, dated exceptions and the free UTC hours of the next 28 days."""
    return await accounts.get_availability(ctx.uow, person_id, utc_now())


@router.get("/me/relationships")
async def my_relationships(
    ctx: Ctx, person_id: Me, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """The people I have met and keep meeting, a page at a time."""
    items = await trust.my_relationships(ctx.uow, person_id, limit + 1, offset)
    return offset_page(items, limit, offset)
