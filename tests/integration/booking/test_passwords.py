"""Passwords: argon2id at OWASP's strength, rehashed when the parameters change, hashed off
the event loop and outside any transaction, and no faster to refuse for an unknown email."""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from argon2 import PasswordHasher

from services.booking.adapters.passwords import Argon2Passwords
from services.booking.bootstrap import BookingRuntime
from shared.postgres import ensure_database
from shared.settings import Settings
from tests.conftest import Stack
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import sign_up

PASSWORD = "a long enough password"
#: OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
OWASP = {"m": 19 * 1024, "t": 2, "p": 1}
#: How the second booking process's connections are named in ``pg_stat_activity``.
_ELSEWHERE = "kith-booking-elsewhere"


def _parameters(encoded: str) -> dict[str, int]:
    """``{"m": .., "t": .., "p": ..}`` of an encoded argon2 hash."""
    _, variant, _, parameters, _, _ = encoded.split("$")
    assert variant == "argon2id"
    return {name: int(value) for name, value in (p.split("=") for p in parameters.split(","))}


async def _stored_hash(runtime: BookingRuntime, email: str) -> str:
    async with runtime.uow.read() as repo:
        value = await repo.conn.fetchval(
            "SELECT password_hash FROM people WHERE lower(email) = lower($1)", email
        )
    assert isinstance(value, str)
    return value


async def _sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> int:
    answer = await client.post("/v1/sessions", json={"email": email, "password": password})
    return answer.status_code


@asynccontextmanager
async def _another_process(
    booking: Booking, settings: Settings, **app: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A second booking process on the same database, with its own settings. Its
    connections are named ``_ELSEWHERE`` in ``pg_stat_activity``."""
    named = f"{booking.runtime.database_url}?application_name={_ELSEWHERE}"
    other = BookingRuntime(settings, database_url=named, group_id=f"test-{uuid.uuid4()}")
    await other.start()
    transport = httpx.ASGITransport(app=other.app(**app))
    client = httpx.AsyncClient(transport=transport, base_url="http://booking-2.test")
    try:
        yield client
    finally:
        await client.aclose()
        await other.stop()


async def test_a_password_is_kept_as_argon2id_at_owasp_strength(booking: Booking) -> None:
    email = f"ada-{uuid.uuid4().hex[:10]}@example.org"
    await sign_up(booking.client, "Ada", email=email)
    stored = await _stored_hash(booking.runtime, email)
    assert stored.startswith("$argon2id$v=19$")
    parameters = _parameters(stored)
    assert all(parameters[name] >= OWASP[name] for name in OWASP), parameters
    assert PASSWORD not in stored
    assert await _sign_in(booking.client, email) == 200
    assert await _sign_in(booking.client, email, "a wrong long password") == 401


async def test_a_hash_made_with_weaker_parameters_is_rehashed_at_sign_in(
    booking: Booking,
) -> None:
    email = f"bo-{uuid.uuid4().hex[:10]}@example.org"
    await sign_up(booking.client, "Bo", email=email)
    before = _parameters(await _stored_hash(booking.runtime, email))
    stronger = booking.settings.model_copy(update={"password_time_cost": before["t"] + 1})
    async with _another_process(booking, stronger) as elsewhere:
        assert await _sign_in(elsewhere, email, "a wrong long password") == 401
        assert _parameters(await _stored_hash(booking.runtime, email)) == before
        assert await _sign_in(elsewhere, email) == 200
        after = _parameters(await _stored_hash(booking.runtime, email))
        assert after == {**before, "t": before["t"] + 1}
        assert await _sign_in(elsewhere, email) == 200
    assert await _sign_in(booking.client, email) == 200


async def test_an_unknown_email_takes_as_long_as_a_wrong_password(booking: Booking) -> None:
    email = f"cy-{uuid.uuid4().hex[:10]}@example.org"
    await sign_up(booking.client, "Cy", email=email)
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(7):
        for times, who in ((known, email), (unknown, f"nobody-{uuid.uuid4().hex}@example.org")):
            started = time.perf_counter()
            assert await _sign_in(booking.client, who, "a wrong long password") == 401
            times.append(time.perf_counter() - started)
    # A refusal without a hash to check would answer from one indexed lookup, many times
    # faster than argon2; the same work both ways keeps the medians close.
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.7, (known, unknown)


class _Watching(PasswordHasher):
    """argon2id that notes, on every hash and check, which thread runs it and whether booking
    holds a transaction open meanwhile."""

    def __init__(self, loop: asyncio.AbstractEventLoop, probe: asyncpg.Connection) -> None:
        super().__init__(memory_cost=OWASP["m"], time_cost=OWASP["t"], parallelism=OWASP["p"])
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.probe = probe
        self.seen: list[tuple[bool, int]] = []

    def _note(self) -> None:
        on_loop = threading.get_ident() == self.loop_thread
        # Ask from the hashing thread through the loop: possible only when it runs free.
        open_transactions = -1
        if not on_loop:
            open_transactions = asyncio.run_coroutine_threadsafe(
                _open_transactions(self.probe), self.loop
            ).result(timeout=10)
        self.seen.append((on_loop, open_transactions))

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._note()
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self._note()
        return super().verify(hash, password)


async def _open_transactions(probe: asyncpg.Connection) -> int:
    """The hashing process's sessions that sit in a transaction having touched accounts
    (the other booking on this database, and its sweeps, are not the one asked)."""
    count = await probe.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = $1 AND state LIKE 'idle in transaction%'"
        " AND (query ILIKE '%people%' OR query ILIKE '%idempotency_keys%'"
        " OR query ILIKE '%sessions%')",
        _ELSEWHERE,
    )
    assert isinstance(count, int)
    return count


async def test_passwords_are_hashed_off_the_event_loop_and_outside_any_transaction(
    booking: Booking,
) -> None:
    probe = await asyncpg.connect(booking.runtime.database_url)
    watching = _Watching(asyncio.get_running_loop(), probe)
    try:
        async with _another_process(
            booking, booking.settings, passwords=Argon2Passwords(watching)
        ) as elsewhere:
            email = f"dee-{uuid.uuid4().hex[:10]}@example.org"
            key = {"Idempotency-Key": uuid.uuid4().hex}
            await sign_up(elsewhere, "Dee", email=email)
            answer = await elsewhere.post(
                "/v1/sessions", json={"email": email, "password": PASSWORD}, headers=key
            )
            assert answer.status_code == 200
            assert await _sign_in(elsewhere, f"nobody-{uuid.uuid4().hex}@example.org") == 401
            named = await probe.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", _ELSEWHERE
            )
            assert named > 0, "the probe sees the hashing process's connections"
    finally:
        await probe.close()
    assert len(watching.seen) >= 3
    assert watching.seen == [(False, 0)] * len(watching.seen)


async def test_an_old_scrypt_hash_verifies_once_and_is_rehashed(
    stack: Stack, booking: Booking
) -> None:
    """A database from before argon2 (scrypt, salt and hash in two columns) signs in."""
    parts = urlsplit(stack.database_url)
    database_url = urlunsplit(parts._replace(path=f"/kith_booking_old_{uuid.uuid4().hex[:8]}"))
    await ensure_database(database_url)
    email = f"eve-{uuid.uuid4().hex[:10]}@example.org"
    salt = b"0123456789abcdef"
    old_hash = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    connection = await asyncpg.connect(database_url)
    try:
        await _migrate_to_before_argon2(connection)
        await connection.execute(
            "INSERT INTO people (person_id, email, display_name, password_salt, password_hash,"
            " lat, lng, address, phone, neighbourhood, cell, time_zone, skills,"
            " travel_radius_km, weekly_hour_cap, languages) VALUES ($1, $2, 'Eve', $3, $4,"
            " 51.5, -0.1, '1 Old Road', NULL, 'n', 'c', 'Europe/London', '{}', 2, 4, '{}')",
            uuid.uuid4(),
            email,
            salt,
            old_hash,
        )
    finally:
        await connection.close()

    runtime = BookingRuntime(
        booking.settings, database_url=database_url, group_id=f"test-{uuid.uuid4()}"
    )
    await runtime.start()
    transport = httpx.ASGITransport(app=runtime.app())
    client = httpx.AsyncClient(transport=transport, base_url="http://booking-old.test")
    try:
        assert await _sign_in(client, email, "a wrong long password") == 401
        assert await _sign_in(client, email) == 200
        assert (await _stored_hash(runtime, email)).startswith("$argon2id$")
        assert await _sign_in(client, email) == 200
        assert await _sign_in(client, email, "a wrong long password") == 401
    finally:
        await client.aclose()
        await runtime.stop()


async def _migrate_to_before_argon2(connection: asyncpg.Connection) -> None:
    """Apply booking's migrations up to (not including) 010, as an older Kith would have."""
    await connection.execute(
        "CREATE TABLE schema_migrations ("
        " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for package in ("shared.postgres.sql", "services.booking.migrations"):
        scripts = sorted(
            (e for e in resources.files(package).iterdir() if e.name.endswith(".sql")),
            key=lambda entry: entry.name,
        )
        for script in scripts:
            if package.startswith("services.") and script.name >= "010":
                continue
            await connection.execute(script.read_text())
            await connection.execute(
                "INSERT INTO schema_migrations (name) VALUES ($1)", f"{package}:{script.name}"
            )
