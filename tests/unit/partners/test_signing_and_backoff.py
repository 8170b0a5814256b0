"""The gateway signs what the SDK verifies; backoff grows, is capped, and jitters."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from kith_partner import WebhookVerificationError, verify_webhook
from services.partners.domain.backoff import Backoff
from services.partners.domain.keys import new_webhook_secret
from services.partners.service_layer.signing import signature_headers

BODY = b'{"type":"offer.made"}'


def test_the_sdk_verifies_the_gateway_signature_and_nothing_else() -> None:
    secret, other = new_webhook_secret(), new_webhook_secret()
    headers = signature_headers([secret], "evt_1", datetime.now(UTC), BODY)
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-signature"].startswith("v1,")
    assert verify_webhook(secret, BODY, headers) == {"type": "offer.made"}
    # Any Standard Webhooks library verifies it as it is.
    Webhook(secret).verify(BODY, headers)
    for wrong_secret, body, changed in (
        (other, BODY, {}),
        (secret, BODY + b" ", {}),
        (secret, BODY, {"webhook-id": "evt_2"}),
        (secret, BODY, {"webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}),
    ):
        with pytest.raises(WebhookVerificationError):
            verify_webhook(wrong_secret, body, {**headers, **changed})


def test_an_old_timestamp_is_refused_even_with_a_good_signature() -> None:
    secret = new_webhook_secret()
    then = datetime.now(UTC) - timedelta(minutes=6)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_webhook(secret, BODY, signature_headers([secret], "evt_1", then, BODY))


def test_during_a_rotation_either_secret_verifies() -> None:
    new, old = new_webhook_secret(), new_webhook_secret()
    headers = signature_headers([new, old], "evt_1", datetime.now(UTC), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify_webhook(new, BODY, headers)
    assert verify_webhook(old, BODY, headers)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(new_webhook_secret(), BODY, headers)


def test_backoff_doubles_within_jitter_and_stops_at_the_cap() -> None:
    backoff = Backoff(base_s=1.0, cap_s=10.0, max_attempts=5)
    rng = random.Random(7)
    delays = [backoff.delay_s(attempt, rng) for attempt in range(1, 8)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(10.0, 2.0 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 10.0
    assert not backoff.gives_up_after(4)
    assert backoff.gives_up_after(5)
