"""A person's notification preferences: which notices on which channel, quiet hours, language.

Notify reads them, with the contact details, when it sends a notice; they never travel on a
topic.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.booking.entrypoints.http.dependencies import Ctx, Me
from shared.notifications import NotificationPreferences

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
