"""What other Kith services ask booking for directly, with the operators' token.

Personal data never travels on a topic: notify learns from events *that* someone should be
told something, and asks here, at the moment it sends, how to reach them. Nothing it is told
is stored by notify or written to a log.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.booking.domain.errors import NotFound
from services.booking.entrypoints.http.dependencies import Ctx, Service
from services.booking.service_layer import account_links
from services.booking.service_layer.records import ContactRow
from shared.contracts import utc_now

router = APIRouter(
    prefix="/v1/internal", tags=["internal"], dependencies=[Service], include_in_schema=False
)


def _answer(row: ContactRow) -> dict[str, Any]:
    return {
        "person_id": str(row.person_id),
        "display_name": row.display_name,
        "email": row.email,
        "phone": row.phone,
        "languages": row.languages,
        "time_zone": row.time_zone,
        "preferences": row.preferences.model_dump(mode="json"),
        "push_subscriptions": row.push_subscriptions,
        "emergency_contact": row.emergency_contact,
    }


@router.get("/people/{person_id}/contact")
async def contact(person_id: uuid.UUID, ctx: Ctx) -> dict[str, Any]:
    """How to reach a person: name, email, phone, languages, time zone, notification
    preferences and web-push subscriptions (``null`` where there is none: a referred person
    has no email). An erased person is not found: there is nobody to tell."""
    async with ctx.uow.read() as repo:
        rows = await repo.contacts([person_id])
    if not rows:
        raise NotFound(f"no person {person_id}")
    return _answer(rows[0])


class ContactsQuery(BaseModel):
    """Whom notify is about to tell (a batch of due notices)."""

    model_config = ConfigDict(extra="forbid")

    person_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


@router.post("/people/contacts")
async def contacts(body: ContactsQuery, ctx: Ctx) -> dict[str, Any]:
    """How to reach each of ``person_ids``, as ``GET .../contact`` says it, in one answer: a
    person erased (or never known) is left out."""
    async with ctx.uow.read() as repo:
        rows = await repo.contacts(list(dict.fromkeys(body.person_ids)))
    return {"items": [_answer(row) for row in rows]}


@router.post("/account-links/{link_id}/token")
async def link_token(link_id: uuid.UUID, ctx: Ctx) -> dict[str, Any]:
    """A link's token, minted now for notify to put in the email (booking keeps its digest
    only). Asked again while the link is open (a send retried), another is minted and the
    first stops working: each token is handed out once. A used or expired link is a 409, an
    unknown one (or its person erased) a 404: there is nothing to send."""
    token, purpose = await account_links.hand_out(ctx.uow, link_id, utc_now())
    return {"token": token, "purpose": purpose}
