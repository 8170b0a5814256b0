"""The ledger's operators' API, as the console reads it: pots, approvals, reconciliation."""

from __future__ import annotations

from typing import Any

import httpx

from shared.settings import Settings


def ledger_url(settings: Settings) -> str:
    """Where the ledger's API listens."""
    return settings.ledger_base_url()


class LedgerUnavailable(Exception):
    """The ledger did not answer; the page says so instead of failing."""


class LedgerApi:
    """Calls on the ledger as the signed-in operator: each call carries their own token,
    so the ledger knows who acts and puts it on the audit trail."""

    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._base = ledger_url(settings)
        self._transport = transport

    async def _call(
        self, token: str, method: str, path: str, json: dict[str, Any] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with httpx.AsyncClient(
                base_url=self._base, timeout=10, transport=self._transport
            ) as http:
                response = await http.request(method, path, headers=headers, json=json)
        except httpx.HTTPError as error:
            raise LedgerUnavailable(f"the ledger did not answer ({type(error).__name__})") from None
        if response.status_code >= 400:
            raise LedgerUnavailable(f"the ledger answered {response.status_code}: {response.text}")
        return response.json()

    async def overview(self, token: str) -> dict[str, Any]:
        """Communities with their pots, pending approvals, and the reconciliation."""
        communities = await self._call(token, "GET", "/v1/operator/ledger/communities")
        pending = await self._call(token, "GET", "/v1/operator/ledger/pot-requests")
        reconciliation = await self._call(token, "GET", "/v1/operator/ledger/reconciliation")
        return {
            "communities": communities["items"],
            "approvals": pending["items"],
            "reconciliation": reconciliation,
        }

    async def decide(self, token: str, request_id: str, decision: str) -> None:
        """Approve or refuse covering a request from its pot."""
        await self._call(
            token, "POST", f"/v1/operator/ledger/pot-requests/{request_id}", {"decision": decision}
        )

    async def set_partner_community(
        self, token: str, partner_id: str, community_id: str | None
    ) -> None:
        """Place a partner's referred visits in a community (``None``: by their cell)."""
        await self._call(
            token,
            "PUT",
            f"/v1/operator/ledger/partners/{partner_id}",
            {"community_id": community_id},
        )
