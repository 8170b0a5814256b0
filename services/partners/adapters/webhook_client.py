"""Posting webhooks with httpx."""

from __future__ import annotations

import httpx


class HttpxWebhookSender:
    """One connection pool for every partner's endpoint; redirects are not followed, so a
    signed body never lands somewhere the operator did not register."""

    def __init__(self, *, timeout_s: float) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The status code of one POST; transport errors propagate."""
        response = await self._client.post(url, content=body, headers=headers)
        return response.status_code

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
