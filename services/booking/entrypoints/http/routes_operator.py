"""What operators (community coordinators) do through the API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from services.booking.domain.flag_decisions import FlagDecision
from services.booking.domain.visits import RequestStatus
from services.booking.entrypoints.http.audit import ViewReason, recorded
from services.booking.entrypoints.http.dependencies import Acts, Ctx, Operator
from services.booking.entrypoints.http.idempotency import OPERATORS, IdempotencyKey, idempotent
from services.booking.entrypoints.http.schemas import (
    CURSOR_PATTERN,
    Body,
    ReviewBody,
    VettingBody,
)
from services.booking.service_layer import flag_decisions, pipeline, requests, reviews, trust
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
async def flagged_bookings(
    ctx: Ctx, who: Acts, limit: Limit = 50, offset: Offset = 0, reason: ViewReason = None
) -> dict[str, Any]:
    """Visits a suspension held (``held: true``) that wait for an operator's decision,
    soonest first, a page at a time: each with both people's names, whether each is
    ``helper_suspended`` or ``neighbour_suspended`` now, and its ``request_status`` now (a
    suspended helper's visit is asked for again at once, and may be booked anew). The view
    names people: it goes on the audit trail."""
    async with recorded(ctx, who, "flagged_visits.view", reason=reason) as seen:
        items = await flag_decisions.flagged_visits(ctx.uow, limit + 1, offset)
        seen["bookings"] = [str(item["booking_id"]) for item in items[:limit]]
    return offset_page(items, limit, offset)


class FlagDecisionBody(Body):
    """An operator's decision on a flagged visit, with the reason (kept on the audit trail
    only: nobody is told it, and it travels on no topic)."""

    decision: FlagDecision = Field(
        description="`cancel` (off for good), `reoffer` (ask for its request again) or `keep`"
        " (goes ahead as booked with the same two people)."
    )
    reason: str = Field(min_length=1, max_length=500, description="Why (kept on the trail).")


@router.post("/bookings/{booking_id}/decision", response_model=None)
async def decide_flagged(
    booking_id: uuid.UUID,
    body: FlagDecisionBody,
    ctx: Ctx,
    who: Acts,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """Decide a flagged visit. ``cancel``: its request is closed if it still waits, and both
    sides are told it will not happen. ``reoffer``: its request is asked for again and the
    neighbour told (a 409 while the neighbour is suspended, once the visit's time has
    passed, or when the request was booked with someone else since). ``keep``: the same
    booking is confirmed again (``booking.kept``) and both sides told (a 409 while either
    person is suspended, when the helper has another visit in those hours, or when the
    request was taken since). A 409 too when the visit was decided already."""

    async def decide() -> dict[str, Any]:
        async with recorded(
            ctx,
            who,
            f"flagged_visit.{body.decision.value}",
            subject_kind="booking",
            subject_id=booking_id,
            reason=body.reason,
        ) as noted:
            decided = await flag_decisions.decide(ctx.uow, booking_id, body.decision, utc_now())
            noted["request_status"] = decided["request_status"].value
        return decided

    return await idempotent(ctx, request, OPERATORS, key, body, 200, decide)
