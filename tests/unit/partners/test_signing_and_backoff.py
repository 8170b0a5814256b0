"""The gateway signs what the SDK verifies; backoff grows, is capped, and jitters."""

from __future__ import annotations

import random

from kith_partner import verify_webhook
from services.partners.domain.backoff import Backoff
from services.partners.domain.signing import sign

BODY = b'{"type":"offer.made"}'


def test_the_sdk_verifies_the_gateway_signature_and_nothing_else() -> None:
    signature = sign("whsec_a", "1700000000", BODY)
    assert signature.startswith("v1=")
    assert verify_webhook("whsec_a", "1700000000", BODY, signature, now=1700000010)
    assert not verify_webhook("whsec_b", "1700000000", BODY, signature, now=1700000010)
    assert not verify_webhook("whsec_a", "1700000000", BODY + b" ", signature, now=1700000010)
    assert not verify_webhook("whsec_a", "1700000001", BODY, signature, now=1700000010)


def test_an_old_timestamp_is_refused_even_with_a_good_signature() -> None:
    signature = sign("whsec_a", "1700000000", BODY)
    assert not verify_webhook("whsec_a", "1700000000", BODY, signature, now=1700000000 + 301)
    assert not verify_webhook("whsec_a", "soon", BODY, signature, now=1700000000)


def test_a_rotated_secret_verifies_with_either_signature() -> None:
    both = f"{sign('old', '1', BODY)}, {sign('new', '1', BODY)}"
    assert verify_webhook("new", "1", BODY, both, now=1)


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
