"""Signing out: a token stops working at once, in every booking process."""

from __future__ import annotations

import uuid

import httpx

from services.booking.bootstrap import BookingRuntime
from services.booking.domain.credentials import token_digest
from services.booking.service_layer import accounts
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import sign_up
from tests.support import eventually

PASSWORD = "a long enough password"


async def _sign_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/v1/sessions", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _status_of_me(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await client.get("/v1/me", headers=headers)).status_code


async def test_signing_out_ends_that_token_and_everywhere_ends_them_all(booking: Booking) -> None:
    email = f"sol-{uuid.uuid4().hex[:10]}@example.org"
    _, phone = await sign_up(booking.client, "Sol", email=email)
    laptop = await _sign_in(booking.client, email)
    assert await _status_of_me(booking.client, phone) == 200  # now remembered by this process

    signed_out = await booking.client.delete("/v1/sessions/current", headers=phone)
    assert signed_out.status_code == 204
    assert await _status_of_me(booking.client, phone) == 401
    assert await _status_of_me(booking.client, laptop) == 200, "other devices stay signed in"
    again = await booking.client.delete("/v1/sessions/current", headers=phone)
    assert again.status_code == 401

    tablet = await _sign_in(booking.client, email)
    everywhere = await booking.client.delete("/v1/sessions", headers=laptop)
    assert everywhere.status_code == 204
    assert [await _status_of_me(booking.client, h) for h in (laptop, tablet)] == [401, 401]
    assert await _status_of_me(booking.client, await _sign_in(booking.client, email)) == 200


async def test_a_token_signed_out_in_one_process_stops_working_in_another(
    booking: Booking,
) -> None:
    other = BookingRuntime(
        booking.settings,
        database_url=booking.runtime.database_url,
        group_id=f"test-booking-{uuid.uuid4()}",
    )
    await other.start()
    transport = httpx.ASGITransport(app=other.app())
    elsewhere = httpx.AsyncClient(transport=transport, base_url="http://booking-2.test")
    try:
        await other.ready()
        _, headers = await sign_up(booking.client, "Otto")
        assert await _status_of_me(elsewhere, headers) == 200  # remembered by the other process

        signed_out = await booking.client.delete("/v1/sessions/current", headers=headers)
        assert signed_out.status_code == 204

        async def refused_there() -> bool:
            return await _status_of_me(elsewhere, headers) == 401

        await eventually(refused_there, timeout_s=10, what="the other process refusing it")
    finally:
        await elsewhere.aclose()
        await other.stop()


async def test_a_token_older_than_the_maximum_age_must_sign_in_again(booking: Booking) -> None:
    email = f"ivy-{uuid.uuid4().hex[:10]}@example.org"
    _, old = await sign_up(booking.client, "Ivy", email=email)
    token = old["Authorization"].removeprefix("Bearer ")
    days = booking.settings.session_max_age_days
    async with booking.runtime.uow.read() as repo:
        await repo.conn.execute(
            "UPDATE sessions SET created_at = now() - make_interval(days => $2)"
            " WHERE token_digest = $1",
            token_digest(token),
            days,
        )

    refused = await booking.client.get("/v1/me", headers=old)
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]
    assert await _status_of_me(booking.client, await _sign_in(booking.client, email)) == 200


async def test_expired_sessions_are_deleted_and_fresh_ones_kept(booking: Booking) -> None:
    _, aged = await sign_up(booking.client, "Uma")
    _, fresh = await sign_up(booking.client, "Vic")
    aged_digest = token_digest(aged["Authorization"].removeprefix("Bearer "))
    fresh_digest = token_digest(fresh["Authorization"].removeprefix("Bearer "))
    days = booking.settings.session_max_age_days
    async with booking.runtime.uow.read() as repo:
        await repo.conn.execute(
            "UPDATE sessions SET created_at = now() - make_interval(days => $2, mins => 1)"
            " WHERE token_digest = $1",
            aged_digest,
            days,
        )

    # A booking process sweeps as it starts (and hourly after).
    other = BookingRuntime(
        booking.settings,
        database_url=booking.runtime.database_url,
        group_id=f"test-booking-{uuid.uuid4()}",
    )
    await other.start()
    try:

        async def aged_gone() -> bool:
            async with booking.runtime.uow.read() as repo:
                return await repo.session(aged_digest) is None

        await eventually(aged_gone, timeout_s=10, what="the expired session deleted")
    finally:
        await other.stop()
    async with booking.runtime.uow.read() as repo:
        assert await repo.session(fresh_digest) is not None
    assert await _status_of_me(booking.client, fresh) == 200
    assert await accounts.forget_expired_sessions(booking.runtime.uow, days) == 0
