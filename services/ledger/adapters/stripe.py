"""The payment provider: Stripe's PaymentIntents (charging a payer's card) and Transfers
(paying a helper's connected account), over its documented HTTP API with httpx; and the
verification of its signed webhooks.

Only Stripe's own ids reach Kith: the card is entered in Stripe's client library, which
gives the app a PaymentMethod id (``pm_...``) to send here. Each call carries an
Idempotency-Key, so a retry never charges or pays twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx

from services.ledger.service_layer.ports import ProviderError, ProviderObject


class StripeProvider:
    """``PaymentProvider`` on Stripe's API."""

    def __init__(
        self,
        base_url: str,
        secret_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            auth=(secret_key, ""),
            timeout=20.0,
            transport=transport,
            headers={"Stripe-Version": "2024-06-20"},
        )

    async def _post(self, path: str, form: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        try:
            response = await self._client.post(
                path, data=form, headers={"Idempotency-Key": idempotency_key}
            )
        except httpx.HTTPError as error:
            raise ProviderError(f"unreachable: {type(error).__name__}") from None
        body: dict[str, Any] = response.json() if response.content else {}
        if response.status_code >= 400:
            message = (body.get("error") or {}).get("message", f"HTTP {response.status_code}")
            raise ProviderError(f"the provider refused: {message}")
        return body

    async def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        owner: str,
        idempotency_key: str,
    ) -> ProviderObject:
        body = await self._post(
            "/v1/payment_intents",
            {
                "amount": str(amount),
                "currency": currency.lower(),
                "payment_method": payment_method,
                "payment_method_types[]": "card",
                "confirm": "true",
                "metadata[kith_owner]": owner,
            },
            idempotency_key,
        )
        return ProviderObject(
            str(body["id"]), int(body["amount"]), currency, str(body["status"]), owner
        )

    async def create_payout(
        self, *, amount: int, currency: str, destination: str, owner: str, idempotency_key: str
    ) -> ProviderObject:
        body = await self._post(
            "/v1/transfers",
            {
                "amount": str(amount),
                "currency": currency.lower(),
                "destination": destination,
                "metadata[kith_owner]": owner,
            },
            idempotency_key,
        )
        return ProviderObject(str(body["id"]), int(body["amount"]), currency, "paid", owner)

    async def payouts_since(self, since: datetime) -> list[ProviderObject]:
        found: list[ProviderObject] = []
        params: dict[str, str] = {"limit": "100", "created[gte]": str(int(since.timestamp()))}
        while True:
            try:
                response = await self._client.get("/v1/transfers", params=params)
            except httpx.HTTPError as error:
                raise ProviderError(f"unreachable: {type(error).__name__}") from None
            if response.status_code >= 400:
                raise ProviderError(f"the provider refused: HTTP {response.status_code}")
            page = response.json()
            for item in page["data"]:
                found.append(
                    ProviderObject(
                        str(item["id"]),
                        int(item["amount"]) - int(item.get("amount_reversed") or 0),
                        str(item["currency"]).upper(),
                        "reversed" if item.get("reversed") else "paid",
                        (item.get("metadata") or {}).get("kith_owner"),
                    )
                )
            if not page.get("has_more") or not page["data"]:
                return found
            params["starting_after"] = str(page["data"][-1]["id"])

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


class BadSignature(ValueError):
    """A webhook whose signature does not verify, or is too old."""


def verify_webhook(
    payload: bytes, header: str, secret: str, *, now: datetime, tolerance_s: int
) -> dict[str, Any]:
    """The webhook's event, once its ``Stripe-Signature`` header verifies: an HMAC-SHA256,
    under the endpoint's signing secret, of ``"<timestamp>.<payload>"``, made within
    ``tolerance_s`` of ``now`` (an older one may be a replay).

    Raises:
        BadSignature: it does not verify.
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise BadSignature("no timestamp in the signature header") from None
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise BadSignature("the signature does not match")
    if abs(now.timestamp() - timestamp) > tolerance_s:
        raise BadSignature("the signature is too old")
    try:
        event: dict[str, Any] = json.loads(payload)
    except ValueError:
        raise BadSignature("the payload is not JSON") from None
    return event


def sign_webhook(payload: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header for ``payload``, as the provider makes it (for the
    provider's test double and for tests)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"
