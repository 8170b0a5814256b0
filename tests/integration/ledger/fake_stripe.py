"""The payment provider's test double, at the HTTP edge only: Stripe's PaymentIntents and
Transfers as its documentation describes them (form-encoded bodies, Idempotency-Key,
list pages), in memory."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl

import httpx

from services.ledger.adapters.stripe import sign_webhook


class FakeStripe:
    """Answers the ledger's calls; remembers what it was asked; makes signed webhooks."""

    def __init__(self, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self._by_key: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not request.headers.get("authorization", "").startswith("Basic "):
            return httpx.Response(401, json={"error": {"message": "no API key"}})
        if request.method == "GET" and request.url.path == "/v1/transfers":
            data = sorted(self.transfers.values(), key=lambda t: t["id"])
            return httpx.Response(200, json={"object": "list", "data": data, "has_more": False})
        form = dict(parse_qsl(request.content.decode()))
        key = request.headers["idempotency-key"]
        if key in self._by_key:
            return httpx.Response(200, json=self._by_key[key])
        if request.url.path == "/v1/payment_intents":
            if form["payment_method"] == "pm_card_declined":
                return httpx.Response(402, json={"error": {"message": "Your card was declined."}})
            obj: dict[str, Any] = {
                "id": f"pi_{uuid.uuid4().hex[:16]}",
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "status": "processing",
                "metadata": {"kith_owner": form["metadata[kith_owner]"]},
            }
            self.payment_intents[obj["id"]] = obj
        elif request.url.path == "/v1/transfers":
            obj = {
                "id": f"tr_{uuid.uuid4().hex[:16]}",
                "object": "transfer",
                "amount": int(form["amount"]),
                "amount_reversed": 0,
                "currency": form["currency"],
                "destination": form["destination"],
                "reversed": False,
                "metadata": {"kith_owner": form["metadata[kith_owner]"]},
            }
            self.transfers[obj["id"]] = obj
        else:
            return httpx.Response(404, json={"error": {"message": "no such route"}})
        self._by_key[key] = obj
        return httpx.Response(200, json=obj)

    def event(self, kind: str, obj: dict[str, Any], *, timestamp: int) -> tuple[bytes, str]:
        """A webhook's body and its Stripe-Signature header."""
        body = json.dumps(
            {"id": f"evt_{uuid.uuid4().hex[:16]}", "type": kind, "data": {"object": obj}}
        ).encode()
        return body, sign_webhook(body, self.webhook_secret, timestamp)
