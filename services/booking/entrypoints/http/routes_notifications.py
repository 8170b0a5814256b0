"""A person's notification preferences: which notices on which channel, quiet hours, language.

Notify reads them, with the contact details, when it sends a notice; they never travel on a
topic.
"""

from __future__ import annotations

import uuid
from typing import Self

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.booking.domain.errors import NotFound
from services.booking.entrypoints.http.dependencies import Ctx, Me
from services.booking.entrypoints.http.schemas import EMAIL_PATTERN
from shared.notifications import NotificationPreferences
from shared.push import application_server_key

router = APIRouter(prefix="/v1", tags=["people"])


@router.get("/me/notifications")
async def my_notifications(ctx: Ctx, person_id: Me) -> NotificationPreferences:
    """My notification preferences (the defaults until I choose: every notice by email, no
    quiet hours, in the first of my languages Kith writes in)."""
    async with ctx.uow.read() as repo:
        return await repo.notification_preferences(person_id)


@router.put("/me/notifications")
async def set_my_notifications(
    body: NotificationPreferences, ctx: Ctx, person_id: Me
) -> NotificationPreferences:
    """Replace my notification preferences. A kind with an empty list of channels is not
    sent; safety notices (a cancelled visit) cannot be turned off and are sent in quiet hours
    too. Other notices that fall in my quiet hours, in my own time zone, wait for their end."""
    async with ctx.uow.begin() as repo:
        await repo.set_notification_preferences(person_id, body)
    return body


#: Base64url without padding, as browsers give a subscription's keys.
_B64URL = r"^[A-Za-z0-9_-]+={0,2}$"


class PushKeys(BaseModel):
    """The keys of a browser's push subscription (``PushSubscription.toJSON().keys``)."""

    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(min_length=80, max_length=100, pattern=_B64URL)
    auth: str = Field(min_length=16, max_length=32, pattern=_B64URL)


class PushSubscriptionBody(BaseModel):
    """A browser's push subscription, as ``PushSubscription.toJSON()`` gives it."""

    model_config = ConfigDict(extra="ignore")  # expirationTime and what browsers add

    endpoint: str = Field(min_length=12, max_length=2048, pattern=r"^https://[^\s]+$")
    keys: PushKeys


@router.post("/me/push-subscriptions", status_code=201)
async def add_push_subscription(
    body: PushSubscriptionBody, ctx: Ctx, person_id: Me
) -> dict[str, str]:
    """Be told on this browser too: notify pushes every notice I have not turned off to each
    browser I subscribed (the subscription never leaves booking but to notify). The same
    endpoint again replaces its keys and keeps its id."""
    async with ctx.uow.begin() as repo:
        subscription_id = await repo.add_push_subscription(
            person_id, body.endpoint, body.keys.p256dh, body.keys.auth
        )
    return {"subscription_id": str(subscription_id)}


@router.delete("/me/push-subscriptions/{subscription_id}", status_code=204)
async def remove_push_subscription(subscription_id: uuid.UUID, ctx: Ctx, person_id: Me) -> Response:
    """Stop pushing to that browser."""
    async with ctx.uow.begin() as repo:
        if not await repo.remove_push_subscription(person_id, subscription_id):
            raise NotFound(f"no push subscription {subscription_id}")
    return Response(status_code=204)


@router.get("/push/key")
async def push_key(ctx: Ctx) -> dict[str, str | None]:
    """The application server key (VAPID, base64url) a browser subscribes with; ``null``
    when this Kith sends no web push."""
    return {"key": application_server_key(ctx.settings)}


class EmergencyContact(BaseModel):
    """Someone to tell when I do not answer the door for a visit (a welfare check): an email
    address, a phone, or both."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=254)
    phone: str | None = Field(default=None, min_length=5, max_length=40)

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError("give an email address or a phone for them")
        return self


@router.get("/me/emergency-contact")
async def my_emergency_contact(ctx: Ctx, person_id: Me) -> EmergencyContact | None:
    """My emergency contact, or ``null``."""
    async with ctx.uow.read() as repo:
        found = await repo.emergency_contact(person_id)
    return EmergencyContact.model_validate(found) if found else None


@router.put("/me/emergency-contact")
async def set_my_emergency_contact(
    body: EmergencyContact, ctx: Ctx, person_id: Me
) -> EmergencyContact:
    """Name (or replace) my emergency contact: when I do not answer the door for a visit,
    Kith tells them as well as its operators (whatever my quiet hours)."""
    async with ctx.uow.begin() as repo:
        await repo.set_emergency_contact(person_id, body.name, body.email, body.phone)
    return body


@router.delete("/me/emergency-contact", status_code=204)
async def remove_my_emergency_contact(ctx: Ctx, person_id: Me) -> Response:
    """Name no emergency contact."""
    async with ctx.uow.begin() as repo:
        await repo.remove_emergency_contact(person_id)
    return Response(status_code=204)
