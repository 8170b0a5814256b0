"""Rate limits on sign-in, sign-up and concerns, per client address and per account, shared by
every booking process through booking's PostgreSQL: past one, a 429 problem with Retry-After."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared import clock
from shared.http_limits import RateLimited, enforce
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import assert_limited, client_at, sign_up, two_processes

PASSWORD = "a long enough password"


def _body(email: str) -> dict[str, Any]:
    return {
        "display_name": "Wren",
        "email": email,
        "password": PASSWORD,
        "home": {"lat": 51.5, "lng": -0.1, "address": "9 Elm Row"},
        "time_zone": "Europe/London",
    }


async def test_sign_in_is_limited_per_address_across_processes(booking: Booking) -> None:
    email = f"wren-{uuid.uuid4().hex[:10]}@example.org"
    await sign_up(booking.client, "Wren", email=email)
    address = f"10.7.{uuid.uuid4().int % 250}.1"
    async with two_processes(
        booking, rate_sign_in_per_address="3/600", rate_sign_in_per_account="1000/600"
    ) as (one, two):
        clients = [client_at(one, address), client_at(two, address)]
        credentials = {"email": email, "password": PASSWORD}
        answers = [
            await clients[attempt % 2].post("/v1/sessions", json=credentials)
            for attempt in range(3)
        ]
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert_limited(await clients[1].post("/v1/sessions", json=credentials), window_s=600)
        assert_limited(await clients[0].post("/v1/sessions", json=credentials), window_s=600)
        elsewhere = client_at(one, "10.8.0.1")
        assert (await elsewhere.post("/v1/sessions", json=credentials)).status_code == 200
        for client in (*clients, elsewhere):
            await client.aclose()


async def test_sign_in_is_limited_per_account_from_any_address(booking: Booking) -> None:
    email = f"yan-{uuid.uuid4().hex[:10]}@example.org"
    other = f"zoe-{uuid.uuid4().hex[:10]}@example.org"
    await sign_up(booking.client, "Yan", email=email)
    await sign_up(booking.client, "Zoe", email=other)
    async with two_processes(
        booking, rate_sign_in_per_address="1000/600", rate_sign_in_per_account="2/600"
    ) as (one, two):
        wrong = {"email": email.upper(), "password": "guess number one"}
        first = client_at(one, "10.9.0.1")
        second = client_at(two, "10.9.0.2")
        assert (await first.post("/v1/sessions", json=wrong)).status_code == 401
        assert (await second.post("/v1/sessions", json=wrong)).status_code == 401
        # Even the right password waits: guessing must not go on from a thousand addresses.
        assert_limited(
            await client_at(one, "10.9.0.3").post(
                "/v1/sessions", json={"email": email, "password": PASSWORD}
            ),
            window_s=600,
        )
        fine = await first.post("/v1/sessions", json={"email": other, "password": PASSWORD})
        assert fine.status_code == 200


async def test_sign_up_is_limited_per_address_and_per_email(booking: Booking) -> None:
    async with two_processes(
        booking, rate_sign_up_per_address="2/3600", rate_sign_up_per_account="1/3600"
    ) as (one, two):
        client = client_at(one, "10.10.0.1")
        for _ in range(2):
            made = await client.post("/v1/people", json=_body(f"{uuid.uuid4().hex}@example.org"))
            assert made.status_code == 201
        assert_limited(
            await client_at(two, "10.10.0.1").post(
                "/v1/people", json=_body(f"{uuid.uuid4().hex}@example.org")
            ),
            window_s=3600,
        )
        taken = f"{uuid.uuid4().hex}@example.org"
        assert (
            await client_at(one, "10.10.0.2").post("/v1/people", json=_body(taken))
        ).status_code == 201
        assert_limited(
            await client_at(two, "10.10.0.3").post("/v1/people", json=_body(taken)), window_s=3600
        )


async def test_concerns_are_limited_per_address_and_per_person(booking: Booking) -> None:
    _, raiser = await sign_up(booking.client, "Ash")
    _, other = await sign_up(booking.client, "Bea")
    async with two_processes(
        booking, rate_concerns_per_address="3/3600", rate_concerns_per_account="2/3600"
    ) as (one, two):
        concern = {"about_id": str(uuid.uuid4()), "summary": "something felt wrong"}
        answers = [
            await client_at(runtime, address).post("/v1/concerns", json=concern, headers=raiser)
            for runtime, address in ((one, "10.11.0.1"), (two, "10.11.0.2"))
        ]
        assert [answer.status_code for answer in answers] == [404, 404]  # nobody to be about
        assert_limited(
            await client_at(one, "10.11.0.3").post("/v1/concerns", json=concern, headers=raiser),
            window_s=3600,
        )
        shared = client_at(two, "10.11.0.9")
        assert (await shared.post("/v1/concerns", json=concern, headers=other)).status_code == 404
        assert (await shared.post("/v1/concerns", json=concern, headers=other)).status_code == 404
        fourth = client_at(one, "10.11.0.9")
        assert_limited(
            await fourth.post("/v1/concerns", json=concern, headers=other), window_s=3600
        )


async def test_a_process_whose_clock_was_moved_ahead_leaves_the_limits_on_real_time(
    booking: Booking, tmp_path: Path
) -> None:
    # Limits count real seconds between requests: a demo or test that moves the shared clock
    # days ahead must not leave an address refused for days by every process on real time.
    address = f"10.9.{uuid.uuid4().int % 250}.1"
    settings = booking.settings.model_copy(update={"rate_sign_in_per_address": "2/600"})
    moved = tmp_path / "clock"
    clock.advance(moved, timedelta(days=3))
    clock.install(moved)
    try:
        await enforce(booking.runtime.limiter, settings, "sign_in", address=address)
    finally:
        clock.install(None)
    await enforce(booking.runtime.limiter, settings, "sign_in", address=address)
    with pytest.raises(RateLimited) as refused:
        await enforce(booking.runtime.limiter, settings, "sign_in", address=address)
    assert refused.value.retry_after_s <= 600
