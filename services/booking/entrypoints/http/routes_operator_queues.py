"""The operators' queues: the vetting pipeline and welfare checks closed with an outcome."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from services.booking.domain.errors import Invalid, NotFound
from services.booking.domain.partners import PersonKind
from services.booking.entrypoints.http.audit import ViewReason, recorded
from services.booking.entrypoints.http.dependencies import Acts, Ctx
from services.booking.entrypoints.http.schemas import Body, HomeChange, Language
from services.booking.service_layer import accounts, health, pipeline
from services.booking.service_layer.commands import UpdateProfile
from services.booking.service_layer.pipeline import WelfareOutcome
from shared import geo
from shared.contracts import utc_now

router = APIRouter(prefix="/v1/operator", tags=["operators"])


class WelfareOutcomeBody(Body):
    """What was done about a neighbour who did not answer the door."""

    outcome: WelfareOutcome
    note: str = Field(min_length=1, max_length=1000, description="What happened, briefly.")


class CorrectionBody(Body):
    """A correction of someone's details an operator makes for them (by phone, say), with the
    reason; fields left out stay as they are."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    languages: list[Language] | None = Field(default=None, max_length=10)
    accessibility_notes: str | None = Field(default=None, max_length=1000)
    home: HomeChange | None = None
    reason: str = Field(min_length=1, max_length=500, description="Why (kept on the trail).")


@router.patch("/people/{person_id}")
async def correct_details(
    person_id: uuid.UUID, body: CorrectionBody, ctx: Ctx, who: Acts
) -> dict[str, Any]:
    """Correct a person's details with a reason, as ``PATCH /v1/me`` would change them (a
    new home moves them to its neighbourhood). The audit entry names the fields changed,
    never their values."""
    # A correction naming no field changes nothing, and is still on record as tried.
    fields = sorted(body.model_dump(exclude_none=True, exclude={"reason"}))
    home = body.home
    async with recorded(
        ctx,
        who,
        "person.correct",
        subject_kind="person",
        subject_id=person_id,
        reason=body.reason,
        details={"fields": fields},
    ):
        async with ctx.uow.read() as repo:
            person = await repo.person(person_id)
        if person is None or person["kind"] != PersonKind.MEMBER:
            # An erased account has nothing to correct; a referred person's or a partner's
            # service's details are their partner's to change.
            raise NotFound("no member with that id")
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
            ),
        )


NeighbourhoodCell = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{15}$",
        max_length=15,
        description="A neighbourhood's H3 cell (resolution 7), as events name it.",
    ),
]


class NeighbourhoodNameBody(Body):
    """A name for one neighbourhood cell, or for a group of them; ``null`` forgets it."""

    cells: list[NeighbourhoodCell] = Field(min_length=1, max_length=200)
    name: str | None = Field(min_length=1, max_length=80)


@router.get("/neighbourhoods")
async def neighbourhood_names(ctx: Ctx, _: Acts) -> dict[str, Any]:
    """The names operators gave neighbourhoods: one per cell, shared by a group's cells."""
    async with ctx.uow.read() as repo:
        return {"items": await repo.neighbourhood_names()}


@router.put("/neighbourhoods")
async def name_neighbourhoods(body: NeighbourhoodNameBody, ctx: Ctx, who: Acts) -> dict[str, Any]:
    """Name neighbourhood cells (several cells, one name: a group), or forget their name."""
    cells = sorted(set(body.cells))
    for cell in cells:
        if not geo.is_neighbourhood(cell):
            raise Invalid("cells", f"{cell} is not a neighbourhood cell (H3, resolution 7)")
    async with (
        recorded(
            ctx,
            who,
            "neighbourhood.name",
            subject_kind="neighbourhood",
            subject_id=cells[0] if len(cells) == 1 else None,
            details={"cells": cells, "name": body.name},
        ),
        ctx.uow.begin() as repo,
    ):
        await repo.name_neighbourhoods(cells, body.name, who.stamp, utc_now())
    return {"cells": cells, "name": body.name}


PersonIds = Annotated[
    list[uuid.UUID],
    Query(min_length=1, max_length=200, description="The people's ids (repeat the parameter)."),
]


@router.get("/names")
async def names(
    ctx: Ctx, who: Acts, person_id: PersonIds, reason: ViewReason = None
) -> dict[str, Any]:
    """People's names by id, for lists that know people only by id (the console's live
    view reads the streams, where no name travels). Ids nobody holds are left out. Whose
    names were read goes on the audit trail."""
    ids = sorted(set(person_id))
    async with (
        recorded(ctx, who, "names.view", reason=reason, details={"people": ids}),
        ctx.uow.read() as repo,
    ):
        found = await repo.display_names(ids)
    return {
        "items": [{"person_id": key, "display_name": found[key]} for key in ids if key in found]
    }


@router.get("/relationship-health")
async def relationship_health(ctx: Ctx, who: Acts, reason: ViewReason = None) -> dict[str, Any]:
    """What to look at in how visits are going: ``pairs_stopped`` (two or more visits, none
    for 28 days and none booked), ``not_as_agreed`` (check-ins of the last 28 days answering
    no or partly), ``late_cancellations`` (two or more in 28 days), ``over_weekly_cap``
    (helpers booked past their cap this week, Monday to Sunday UTC) and
    ``neighbours_gone_quiet`` (visits before, none for 28 days and none booked). Each row
    names its people. Each list holds its first ``shown_at_most`` rows (100), and
    ``more_than_shown`` names the lists that had more. The view goes on the audit trail."""
    async with recorded(ctx, who, "relationship_health.view", reason=reason):
        return await health.relationship_health(ctx.uow, utc_now())


@router.get("/vetting")
async def vetting_pipeline(
    ctx: Ctx,
    who: Acts,
    lapse_within_days: Annotated[int, Query(ge=1, le=365)] = 30,
    reason: ViewReason = None,
) -> dict[str, Any]:
    """The vetting pipeline: ``applicants`` (helpers with an offered skill not yet approved,
    oldest sign-up first, each with the steps still needed and every step recorded with its
    evidence note) and ``lapsing`` (approvals ending within ``lapse_within_days``), of the
    first 500 people with either; ``more_than_shown`` says whether more wait. Evidence notes
    are personal: the view goes on the audit trail."""
    async with recorded(ctx, who, "vetting.view", reason=reason) as seen:
        found = await pipeline.vetting_pipeline(
            ctx.uow, utc_now(), timedelta(days=lapse_within_days)
        )
        seen["applicants"] = len(found["applicants"])
    return found


@router.post("/welfare-checks/{booking_id}/outcome")
async def close_welfare_check(
    booking_id: uuid.UUID, body: WelfareOutcomeBody, ctx: Ctx, who: Acts
) -> dict[str, Any]:
    """Close a welfare check (a neighbour's no-show) with its outcome: reached, visited,
    emergency contact called, or escalated. A 409 when it was closed before."""
    async with recorded(
        ctx,
        who,
        "welfare_check.close",
        subject_kind="booking",
        subject_id=booking_id,
        reason=body.note,
        details={"outcome": body.outcome.value},
    ):
        return await pipeline.close_welfare_check(
            ctx.uow, booking_id, body.outcome, body.note, who.stamp, utc_now()
        )
