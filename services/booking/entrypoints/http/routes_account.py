"""Deleting an account and downloading what Kith holds: by the person, or by an operator
on their behalf."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from services.booking.domain.erasure import ErasedBy
from services.booking.domain.rejoining import contact_key
from services.booking.entrypoints.http.audit import recorded
from services.booking.entrypoints.http.dependencies import Acts, Ctx, Me
from services.booking.entrypoints.http.schemas import Body
from services.booking.service_layer import erasure, export
from shared.contracts import utc_now
from shared.http_limits import client_address, enforce

router = APIRouter(prefix="/v1", tags=["account"])


class DeleteAccountBody(Body):
    """The account's password, entered again: a stolen token alone cannot delete an account."""

    password: str = Field(min_length=1, max_length=256)


class EraseBody(Body):
    """Why an operator deletes someone's account, kept with the record of the erasure.

    Say why without personal details (e.g. "asked by phone; identity checked").
    """

    reason: str = Field(min_length=1, max_length=500)
    operator: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="Who did it (an operator's name or handle), kept with the record.",
    )


@router.get("/me/export")
async def export_me(ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Download what Kith holds about me, as JSON: profile, hours, requests, offers, visits,
    my check-ins and concerns, my sessions, and trust's standing and relationships; what
    only another service keeps is named under ``held_elsewhere``."""
    return await export.export(
        ctx.uow,
        person_id,
        now=utc_now(),
        session_max_age_days=ctx.settings.session_max_age_days,
    )


@router.delete("/me", status_code=204, response_class=Response)
async def delete_me(body: DeleteAccountBody, ctx: Ctx, person_id: Me, request: Request) -> Response:
    """Delete my account, with my password: my personal data is erased in every service,
    my upcoming visits are called off (the other side is told), my open requests cancelled,
    and every token of mine stops working at once. My email may sign up again.

    Each try counts against the sign-in limits (``KITH_RATE_SIGN_IN_*``, per client address
    and per account): a stolen token cannot be used to guess the password."""
    await enforce(
        ctx.limiter,
        ctx.settings,
        "sign_in",
        address=client_address(request),
        account=f"person:{person_id}",
    )
    await erasure.erase_own_account(
        ctx.uow,
        ctx.passwords,
        person_id,
        body.password,
        ctx.sessions,
        now=utc_now(),
        contact_key=contact_key(ctx.idempotency_secret),
    )
    return Response(status_code=204)


@router.post("/operator/people/{person_id}/erase", tags=["operators"])
async def erase_person(
    person_id: uuid.UUID, body: EraseBody, ctx: Ctx, who: Acts
) -> dict[str, Any]:
    """Operators: delete a person's account on their behalf, as ``DELETE /v1/me`` would; the
    reason, the operator and the time are kept in the record of erasures."""
    acting = who.named(body.operator)
    async with recorded(
        ctx,
        acting,
        "person.erase",
        subject_kind="person",
        subject_id=person_id,
        reason=body.reason,
    ):
        return await erasure.erase(
            ctx.uow,
            person_id,
            ctx.sessions,
            now=utc_now(),
            by=ErasedBy.OPERATOR,
            contact_key=contact_key(ctx.idempotency_secret),
            operator=acting.name,
            reason=body.reason,
        )
