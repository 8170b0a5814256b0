"""What operators (community coordinators) do through the API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from services.booking.domain.visits import RequestStatus
from services.booking.entrypoints.http.audit import ViewReason, recorded
from services.booking.entrypoints.http.dependencies import Acts, Ctx, Operator
from services.booking.entrypoints.http.idempotency import OPERATORS, IdempotencyKey, idempotent
from services.booking.entrypoints.http.schemas import CURSOR_PATTERN, ReviewBody, VettingBody
from services.booking.service_layer import pipeline, requests, reviews, trust
from services.booking.service_layer.pages import offset_page
from shared.contracts import utc_now

router = APIRouter(prefix="/v1/operator", tags=["operators"], dependencies=[Operator])


Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.post("/people/{person_id}/vetting-steps", status_code=201, response_model=None)
async def record_vetting_step(
    person_id: uuid.UUID,
    body: VettingBody,
    ctx: Ctx,
    who: Acts,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """Record how a helper did at a vetting step: passed (the default), failed or revoked,
    the last two with a reason. Trust counts the latest record of each step, each for its
    own validity: recording one step never renews another. The step is recorded as the
    signed-in operator's (``recorded_by`` is read only from the development bootstrap
    administrator); an ``evidence`` note says what was seen."""
    acting = who.named(body.recorded_by)

    async def record() -> dict[str, Any]:
        async with recorded(
            ctx,
            acting,
            "vetting.record_step",
            subject_kind="person",
            subject_id=person_id,
            reason=body.reason,
            details={"step": body.step.value, "outcome": body.outcome.value},
        ):
            return await trust.record_vetting_step(
                ctx.uow,
                person_id,
                body.step,
                body.outcome,
                body.reason,
                acting.name,
                evidence=body.evidence,
            )

    return await idempotent(ctx, request, OPERATORS, key, body, 201, record)


@router.get("/people/{person_id}")
async def person(
    person_id: uuid.UUID, ctx: Ctx, who: Acts, reason: ViewReason = None
) -> dict[str, Any]:
    """A person's profile and standing: suspended or not, and the skills approved until when;
    ``review`` says why the account is held for an operator's review (null when it is not).
    The view goes on the audit trail, with ``reason``."""
    async with recorded(
        ctx, who, "person.view", subject_kind="person", subject_id=person_id, reason=reason
    ):
        return await trust.person_for_operators(ctx.uow, person_id)


@router.get("/reviews")
async def pending_reviews(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Accounts held for review, oldest first: sign-ups whose email or phone matches someone
    whose account was deleted while suspended or removed. Each can do nothing until cleared."""
    items = await reviews.pending_reviews(ctx.uow, limit + 1, offset)
    return offset_page(items, limit, offset)


@router.post("/people/{person_id}/review")
async def clear_review(
    person_id: uuid.UUID, body: ReviewBody, ctx: Ctx, who: Acts
) -> dict[str, Any]:
    """Clear an account held for review, with the reason (kept for operators): it may then
    ask for help and take work like anyone. A 409 when it is not waiting for review."""
    acting = who.named(body.operator)
    async with recorded(
        ctx,
        acting,
        "review.clear",
        subject_kind="person",
        subject_id=person_id,
        reason=body.reason,
    ):
        return await reviews.clear_review(
            ctx.uow, person_id, now=utc_now(), operator=acting.name, reason=body.reason
        )


@router.get("/requests")
async def requests_by_status(
    ctx: Ctx,
    status: RequestStatus = RequestStatus.UNMATCHED,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, max_length=18)] = None,
) -> dict[str, Any]:
    """The waiting list: requests in a status (unmatched by default), oldest first."""
    return await requests.waiting_list(ctx.uow, status.value, limit, cursor)


@router.get("/relationships")
async def relationships(
    ctx: Ctx, person_id: uuid.UUID | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Trust's full pair records, of one person or of everyone, a page at a time."""
    items = await trust.all_relationships(ctx.uow, person_id, limit + 1, offset)
    return offset_page(items, limit, offset)


@router.get("/welfare-checks")
async def welfare_checks(
    ctx: Ctx, who: Acts, limit: Limit = 50, offset: Offset = 0, reason: ViewReason = None
) -> dict[str, Any]:
    """Visits where the neighbour did not answer the door, newest first, with the helper's
    note (the event operators are told by carries only whether there is one) and the
    ``outcome`` an operator closed it with (null while open). Helpers' notes
    are personal: the view goes on the audit trail."""
    async with recorded(ctx, who, "welfare_checks.view", reason=reason) as seen:
        items = await pipeline.welfare_checks(ctx.uow, limit + 1, offset)
        seen["bookings"] = [str(item["booking_id"]) for item in items[:limit]]
    return offset_page(items, limit, offset)


@router.get("/bookings/flagged")
async def flagged_bookings(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Upcoming bookings of helpers trust has suspended, a page at a time."""
    items = await trust.flagged_bookings(ctx.uow, limit + 1, offset)
    return offset_page(items, limit, offset)
