"""Operators assign or re-offer a waiting request, choosing from the helpers matching says may
take it, with matching's reasons; every action on the audit trail with the reason given."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from services.booking.entrypoints.http.audit import recorded
from services.booking.entrypoints.http.dependencies import Acts, Ctx
from services.booking.entrypoints.http.idempotency import OPERATORS, IdempotencyKey, idempotent
from services.booking.entrypoints.http.schemas import Body
from services.booking.service_layer import assigning
from shared.contracts import utc_now

router = APIRouter(prefix="/v1/operator", tags=["operators"])

_REASON = Field(min_length=1, max_length=500, description="Why (kept on the audit trail).")


class AskBody(Body):
    """Why an operator asks who could take a request."""

    reason: str | None = Field(
        default=None, min_length=1, max_length=500, description="Why (kept on the audit trail)."
    )


class AssignBody(Body):
    """The helper an operator chose for a request, and why."""

    helper_id: uuid.UUID
    reason: str = _REASON


class ReofferBody(Body):
    """Why an operator asks matching for an escalated request again."""

    reason: str = _REASON


@router.post("/requests/{request_id}/candidates", status_code=202, response_model=None)
async def ask_candidates(
    request_id: uuid.UUID,
    ctx: Ctx,
    who: Acts,
    request: Request,
    body: AskBody | None = None,
    key: IdempotencyKey = None,
) -> Response:
    """Ask matching who could take a waiting request (open or unmatched); its answer comes
    to ``GET .../candidates`` within moments. A 409 for a request that is not waiting."""
    reason = body.reason if body is not None else None

    async def ask() -> dict[str, Any]:
        async with recorded(
            ctx,
            who,
            "request.candidates",
            subject_kind="request",
            subject_id=request_id,
            reason=reason,
        ) as details:
            asked = await assigning.ask_candidates(ctx.uow, request_id, who.stamp, utc_now())
            details["query_id"] = str(asked["query_id"])
            return asked

    return await idempotent(ctx, request, OPERATORS, key, body, 202, ask)


@router.get("/requests/{request_id}/candidates")
async def candidates(request_id: uuid.UUID, ctx: Ctx, _: Acts) -> dict[str, Any]:
    """Matching's latest answer for the request: ``candidates`` (the helpers it would offer
    it to, best first, each with its reasons and whether it offered it to them before) and
    ``passed_over`` (helpers near it who may not take it, and why), each with their name;
    ``query.answered`` is false while the answer is on its way. ``directions`` are the
    offers operators directed, with matching's refusal or the offer it made."""
    return await assigning.candidates(ctx.uow, request_id)


@router.post("/requests/{request_id}/assign", status_code=202, response_model=None)
async def assign(
    request_id: uuid.UUID,
    body: AssignBody,
    ctx: Ctx,
    who: Acts,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """Offer a waiting request to the helper chosen, alone: they accept or decline in their
    app as for any offer (and if they let it go, it comes back to operators). Matching
    refuses a helper who may not take it (suspended, the pair blocked, their hours taken),
    and the refusal shows on ``GET .../candidates``. A 409 for a request not waiting."""

    async def direct() -> dict[str, Any]:
        async with recorded(
            ctx,
            who,
            "request.assign",
            subject_kind="request",
            subject_id=request_id,
            reason=body.reason,
            details={"helper_id": str(body.helper_id)},
        ) as details:
            directed = await assigning.assign(
                ctx.uow, request_id, body.helper_id, who.stamp, utc_now()
            )
            details["direction_id"] = str(directed["direction_id"])
            return directed

    return await idempotent(ctx, request, OPERATORS, key, body, 202, direct)


@router.post("/requests/{request_id}/reoffer", status_code=202, response_model=None)
async def reoffer(
    request_id: uuid.UUID,
    body: ReofferBody,
    ctx: Ctx,
    who: Acts,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """Run matching again for an escalated (unmatched) request, from a fresh round with
    everyone who may take it. A 409 for any other status: an open request is still in
    matching's rounds."""

    async def again() -> dict[str, Any]:
        async with recorded(
            ctx,
            who,
            "request.reoffer",
            subject_kind="request",
            subject_id=request_id,
            reason=body.reason,
        ):
            return await assigning.reoffer(ctx.uow, request_id)

    return await idempotent(ctx, request, OPERATORS, key, body, 202, again)
