"""Every endpoint, walked from the app's own OpenAPI document with another person's token
and ids, answers 403 or 404 and never shows that person's data. A new endpoint is walked
as soon as it exists; one with a body fails here until it has a sample body below."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import (
    ask,
    booked,
    future_hour,
    is_stream,
    seed_offer,
    sign_up,
)

#: A valid body for each body-taking operation, so the walk reaches authorisation.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/people"): {
        "display_name": "Walker",
        "email": "walker-{unique}@example.org",
        "password": "long enough password",
        "home": {"lat": 51.5, "lng": -0.1, "address": "1 Walk Way"},
        "time_zone": "Europe/London",
    },
    ("post", "/v1/sessions"): {"email": "nobody@example.org", "password": "wrong password"},
    ("patch", "/v1/me"): {"languages": ["en"]},
    ("post", "/v1/auth/password-reset"): {"email": "nobody@example.org"},
    ("post", "/v1/auth/password-reset/confirm"): {
        "token": "not-a-token-anyone-was-sent",
        "password": "long enough password",
    },
    ("post", "/v1/auth/email-verification/confirm"): {"token": "not-a-token-anyone-was-sent"},
    ("put", "/v1/me/notifications"): {"language": "cy"},
    ("put", "/v1/me/emergency-contact"): {"name": "Walker's friend", "phone": "+44 7700 900555"},
    ("post", "/v1/me/push-subscriptions"): {
        "endpoint": "https://push.example.test/walk",
        "keys": {"p256dh": "B" * 87, "auth": "A" * 22},
    },
    ("post", "/v1/operator/people/{person_id}/review"): {"reason": "checked by phone"},
    # The intruder's own account, with a wrong password: refused, so the walk goes on.
    ("delete", "/v1/me"): {"password": "wrong password"},
    ("post", "/v1/operator/people/{person_id}/erase"): {"reason": "walk"},
    ("put", "/v1/me/availability"): {"rules": []},
    ("post", "/v1/requests"): {
        "skill": "shopping",
        "starts_at": "{future}",
        "hours": 1,
    },
    ("post", "/v1/offers/{offer_id}/accept"): {"scope": "series"},
    ("post", "/v1/series/{series_id}/step-back"): {"reason": "walk"},
    ("post", "/v1/bookings/{booking_id}/cancel"): {"reason": "walk"},
    ("post", "/v1/bookings/{booking_id}/check-ins"): {"see_again": "yes", "as_agreed": "yes"},
    ("post", "/v1/bookings/{booking_id}/reschedule"): {"starts_at": "{future}"},
    ("post", "/v1/bookings/{booking_id}/no-show"): {},
    ("post", "/v1/operator/people/{person_id}/vetting-steps"): {"step": "identity"},
    ("post", "/v1/operator/requests/{request_id}/candidates"): {"reason": "walk"},
    ("post", "/v1/operator/requests/{request_id}/assign"): {
        "helper_id": "{victim}",
        "reason": "walk",
    },
    ("post", "/v1/operator/requests/{request_id}/reoffer"): {"reason": "walk"},
    ("post", "/v1/operator/bookings/{booking_id}/decision"): {
        "decision": "cancel",
        "reason": "walk",
    },
    ("patch", "/v1/operator/accounts/{account_id}"): {"disabled": True, "reason": "walk"},
    ("post", "/v1/operator/audit/entries"): {"action": "ledger.walk"},
    ("post", "/v1/operator/people"): {
        "display_name": "Walker",
        "phone": "+447700900{unique}",
        "home": {"address": "1 Walk Street", "lat": 51.5, "lng": -0.1},
        "consent": {"method": "verbal"},
        "reason": "walk",
    },
    ("post", "/v1/concerns"): {"about_id": "{victim}", "summary": "walk"},
    ("post", "/v1/operator/concerns"): {"about_id": "{victim}", "summary": "walk"},
    ("post", "/v1/operator/sessions"): {
        "email": "walker-{unique}@example.org",
        "password": "long enough password",
        "code": "123456",
    },
    ("post", "/v1/operator/accounts"): {
        "email": "walker-{unique}@example.org",
        "name": "Walker",
        "roles": ["administrator"],
        "password": "long enough password",
    },
    ("patch", "/v1/operator/people/{person_id}"): {"display_name": "Walk", "reason": "walk"},
    ("put", "/v1/operator/neighbourhoods"): {"cells": ["87195da49ffffff"], "name": "Walk"},
    ("post", "/v1/operator/welfare-checks/{booking_id}/outcome"): {
        "outcome": "reached",
        "note": "walk",
    },
    ("post", "/v1/operator/concerns/{concern_id}/resolve"): {
        "outcome": "reinstate",
        "reason": "walk",
    },
}


def _signs_out(walk: tuple[str, str, Any]) -> bool:
    path, method, _ = walk
    return method == "delete" and path.startswith("/v1/sessions")


class _Ids(dict[str, str]):
    """The victim's ids by path parameter; any other parameter gets a fresh id."""

    def __missing__(self, key: str) -> str:
        return str(uuid.uuid4())


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in values.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


async def test_another_persons_ids_are_never_theirs_to_read_or_change(booking: Booking) -> None:
    victim_id, victim = await sign_up(booking.client, "Victoria")
    helper_id, helper = await sign_up(booking.client, "Harold")
    _, intruder = await sign_up(booking.client, "Mallory")
    start = future_hour(days=15)
    booking_id = await booked(booking.client, booking.runtime.uow, victim, helper_id, helper, start)
    series = await ask(booking.client, victim, start + timedelta(hours=30), 1)
    request_id = series["occurrences"][0]["request_id"]
    offer_id = await seed_offer(booking.runtime.uow, request_id, helper_id)
    ids = _Ids(
        {
            "booking_id": booking_id,
            "request_id": request_id,
            "series_id": series["series_id"],
            "offer_id": offer_id,
            "person_id": victim_id,
        }
    )
    secrets = [victim_id, booking_id, request_id, series["series_id"], offer_id, "Victoria"]
    future = future_hour(days=40).isoformat()

    spec = (await booking.client.get("/openapi.json")).json()
    walked = 0
    everything = [
        (path, method, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]
    # Signing out ends the intruder's own token: walked last, or the rest would only see 401.
    for path, method, operation in sorted(everything, key=_signs_out):
        if is_stream(operation):
            continue  # endless; who hears what: tests/integration/booking/test_notices.py
        url = path.format_map(ids)
        body = None
        if "requestBody" in operation:
            assert (method, path) in BODIES, f"add a sample body for {method} {path}"
            values = {"future": future, "unique": str(walked), "victim": victim_id}
            body = _fill(BODIES[(method, path)], values)
        response = await booking.client.request(method, url, headers=intruder, json=body)
        walked += 1
        if "{" in path:
            assert response.status_code in {403, 404}, (method, path, response.text)
        else:
            assert response.status_code < 500, (method, path, response.text)
        leaked = [secret for secret in secrets if secret in response.text]
        assert not leaked, (method, path, leaked)
    assert walked >= 25

    # Nothing the intruder did changed the victim's things.
    still = (await booking.client.get(f"/v1/bookings/{booking_id}", headers=victim)).json()
    assert still["status"] == "confirmed"
    assert still["proposed_reschedule"] is None
    request = (await booking.client.get(f"/v1/requests/{request_id}", headers=victim)).json()
    assert request["status"] == "open"
