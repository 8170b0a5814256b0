"""The provider's webhook signature: Stripe's scheme, checked without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ledger.adapters.stripe import BadSignature, sign_webhook, verify_webhook

SECRET = "whsec_unit"
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
BODY = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}'


def test_a_signed_event_verifies_and_is_read() -> None:
    header = sign_webhook(BODY, SECRET, int(NOW.timestamp()))
    assert verify_webhook(BODY, header, SECRET, now=NOW, tolerance_s=300)["id"] == "evt_1"
    # Stripe sends one v1 per secret while a secret is being rolled: any one may match.
    rolled = f"{header},v1={'0' * 64}"
    assert verify_webhook(BODY, rolled, SECRET, now=NOW, tolerance_s=300)["id"] == "evt_1"


@pytest.mark.parametrize(
    ("body", "header", "reason"),
    [
        (BODY.replace(b"evt_1", b"evt_2"), None, "does not match"),
        (BODY, sign_webhook(BODY, "whsec_other", int(NOW.timestamp())), "does not match"),
        (BODY, sign_webhook(BODY, SECRET, int(NOW.timestamp()) - 301), "too old"),
        (BODY, "v1=abc", "no timestamp"),
        (BODY, "", "no timestamp"),
    ],
)
def test_anything_else_is_refused(body: bytes, header: str | None, reason: str) -> None:
    signed = header if header is not None else sign_webhook(BODY, SECRET, int(NOW.timestamp()))
    with pytest.raises(BadSignature, match=reason):
        verify_webhook(body, signed, SECRET, now=NOW, tolerance_s=300)
