"""Booking's internal contact API, asked with the operators' token when a notice is sent."""

from __future__ import annotations

import uuid

import httpx

from services.notify.service_layer.ports import Contact, ContactUnavailable
from shared.notifications import NotificationPreferences
from shared.settings import Settings


def booking_url(settings: Settings) -> str:
    """Where booking's API listens."""
    return settings.booking_url or f"http://{settings.http_host}:{settings.http_port}"


class BookingContacts:
    """``ContactBook`` over HTTP; start with ``start`` and close with ``close``."""

    def __init__(self, base_url: str, operator_token: str) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {operator_token}"},
            timeout=10.0,
        )

    async def contact(self, person_id: uuid.UUID) -> Contact | None:
        try:
            response = await self._client.get(f"/v1/internal/people/{person_id}/contact")
        except httpx.HTTPError as error:
            raise ContactUnavailable(type(error).__name__) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ContactUnavailable(f"booking answered {response.status_code}")
        body = response.json()
        return Contact(
            display_name=str(body["display_name"]),
            email=body.get("email"),
            phone=body.get("phone"),
            languages=[str(language) for language in body.get("languages") or []],
            time_zone=str(body.get("time_zone") or "UTC"),
            preferences=NotificationPreferences.model_validate(body.get("preferences") or {}),
        )

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()
