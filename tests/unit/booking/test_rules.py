"""Pure rules of requests, offers, bookings and credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.booking.domain.credentials import new_token, token_digest
from services.booking.domain.visits import (
    OfferStatus,
    Repeat,
    address_visible,
    booked_hours,
    effective_offer_status,
    is_late_cancel,
    is_on_the_hour,
    occurrence_starts,
)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
DAY = 24 * 3600


def test_only_the_confirmed_helper_sees_the_address_shortly_before() -> None:
    soon = NOW + timedelta(hours=3)
    assert address_visible(
        is_helper=True, status="confirmed", starts_at=soon, now=NOW, window_s=DAY
    )
    assert not address_visible(
        is_helper=False, status="confirmed", starts_at=soon, now=NOW, window_s=DAY
    )
    assert not address_visible(
        is_helper=True, status="cancelled", starts_at=soon, now=NOW, window_s=DAY
    )
    later = NOW + timedelta(days=3)
    assert not address_visible(
        is_helper=True, status="confirmed", starts_at=later, now=NOW, window_s=DAY
    )
    past = NOW - timedelta(hours=1)
    assert not address_visible(
        is_helper=True, status="confirmed", starts_at=past, now=NOW, window_s=DAY
    )


def test_late_cancel_is_inside_the_window() -> None:
    assert is_late_cancel(NOW + timedelta(hours=5), NOW, DAY)
    assert not is_late_cancel(NOW + timedelta(days=2), NOW, DAY)


def test_occurrences_repeat_weekly_or_fortnightly() -> None:
    assert occurrence_starts(NOW, None, 5) == [NOW]
    assert occurrence_starts(NOW, Repeat.FORTNIGHT, 3, "Europe/London") == [
        NOW,
        NOW + timedelta(weeks=2),
        NOW + timedelta(weeks=4),
    ]
    assert booked_hours(NOW, 3)[-1] == NOW + timedelta(hours=2)


def test_on_the_hour_and_expiry() -> None:
    assert is_on_the_hour(NOW)
    assert not is_on_the_hour(NOW + timedelta(minutes=30))
    expired = effective_offer_status("open", NOW - timedelta(seconds=1), NOW)
    assert expired is OfferStatus.EXPIRED
    assert effective_offer_status("declined", NOW - timedelta(days=1), NOW) is OfferStatus.DECLINED


def test_tokens_are_stored_only_as_digests() -> None:
    token = new_token()
    assert token_digest(token) != token.encode()
    assert len(token_digest(token)) == 32
