"""Who is calling: booking's session tokens, checked by asking booking.

Booking owns sign-in and sessions (and their revocation, which takes effect at once in
every booking process). Rather than copy sessions or share booking's database, the ledger
asks booking ``GET /v1/me`` with the caller's own bearer token and keeps only the person id
of the answer, for this one request. Nothing is cached, so a signed-out token stops working
here at the same moment as in booking.
"""

from __future__ import annotations

import uuid

import httpx


class BookingUnavailable(Exception):
    """Booking did not answer: the caller is told to try again (503)."""


class BookingSessions:
    """Resolves a bearer token to a person id through booking's API."""

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        self._client = httpx.AsyncClient(base_url=base_url, timeout=5.0, transport=transport)

    async def person_of(self, token: str) -> uuid.UUID | None:
        """The person whose token this is; ``None`` when booking does not accept it."""
        try:
            response = await self._client.get(
                "/v1/me", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise BookingUnavailable(type(error).__name__) from None
        if response.status_code in (401, 403, 404):
            return None
        if response.status_code != 200:
            raise BookingUnavailable(f"booking answered {response.status_code}")
        return uuid.UUID(str(response.json()["person_id"]))

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()
