"""Booking's internal contact API, asked with the operators' token when a notice is sent."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import httpx

from services.notify.service_layer.ports import (
    Contact,
    ContactUnavailable,
    EmergencyContact,
    LinkGone,
    PushSubscription,
)
from shared.notifications import NotificationPreferences
from shared.settings import Settings


def web_app_url(settings: Settings) -> str:
    """Where people open the web app (booking serves it at /app/ unless told otherwise)."""
    return settings.web_app_url or f"{settings.booking_base_url().rstrip('/')}/app/"


def _contact(body: dict[str, Any]) -> Contact:
    return Contact(
        display_name=str(body["display_name"]),
        email=body.get("email"),
        phone=body.get("phone"),
        languages=[str(language) for language in body.get("languages") or []],
        time_zone=str(body.get("time_zone") or "UTC"),
        preferences=NotificationPreferences.model_validate(body.get("preferences") or {}),
        push=[
            PushSubscription(str(item["endpoint"]), str(item["p256dh"]), str(item["auth"]))
            for item in body.get("push_subscriptions") or []
        ],
        emergency=_emergency(body.get("emergency_contact")),
    )


def _emergency(body: dict[str, Any] | None) -> EmergencyContact | None:
    if not body:
        return None
    return EmergencyContact(str(body["name"]), body.get("email"), body.get("phone"))


class BookingContacts:
    """``ContactBook`` over HTTP; start with ``start`` and close with ``close``."""

    def __init__(
        self,
        base_url: str,
        operator_token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {operator_token}"},
            timeout=10.0,
            transport=transport,
        )

    async def contacts(self, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Contact]:
        # One question for a whole batch of notices: a question each was most of a notice's
        # cost at a hundred bookings a second (see README, kith bench notify).
        try:
            response = await self._client.post(
                "/v1/internal/people/contacts",
                json={"person_ids": [str(person_id) for person_id in person_ids]},
            )
        except httpx.HTTPError as error:
            raise ContactUnavailable(type(error).__name__) from None
        if response.status_code != 200:
            raise ContactUnavailable(f"booking answered {response.status_code}")
        return {uuid.UUID(item["person_id"]): _contact(item) for item in response.json()["items"]}

    async def link_token(self, link_id: uuid.UUID) -> str:
        try:
            response = await self._client.post(f"/v1/internal/account-links/{link_id}/token")
        except httpx.HTTPError as error:
            raise ContactUnavailable(type(error).__name__) from None
        if response.status_code in (404, 409):
            raise LinkGone(f"booking answered {response.status_code}")
        if response.status_code != 200:
            raise ContactUnavailable(f"booking answered {response.status_code}")
        return str(response.json()["token"])

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()
