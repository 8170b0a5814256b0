"""Least privilege in PostgreSQL: each service's role owns its database and opens no other.

On the real (embedded) PostgreSQL of the test stack: roles and databases are provisioned the
way ``kith up`` does it, then booking's role is shown unable to read trust's database.
"""

from __future__ import annotations

import stat
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from shared.postgres.roles import embedded_service_urls, provision, service_url
from tests.conftest import Stack


def _database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def test_bookings_role_cannot_read_trusts_database(stack: Stack) -> None:
    suffix = uuid.uuid4().hex[:8]
    booking, trust = f"kith_booking_{suffix}", f"kith_trust_{suffix}"
    for name in (booking, trust):
        await provision(stack.database_url, role=name, database=name, password=f"{name}-secret")
    as_trust = service_url(stack.database_url, role=trust, password=f"{trust}-secret")
    owner = await asyncpg.connect(_database(as_trust, trust))
    try:
        await owner.execute("CREATE TABLE concerns (summary text)")
        await owner.execute("INSERT INTO concerns VALUES ('private')")
    finally:
        await owner.close()

    as_booking = service_url(stack.database_url, role=booking, password=f"{booking}-secret")
    own = await asyncpg.connect(_database(as_booking, booking))
    try:
        await own.execute("CREATE TABLE people (name text)")  # its own database: allowed
        assert await own.fetchval("SELECT current_user") == booking
    finally:
        await own.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await asyncpg.connect(_database(as_booking, trust))
    wrong = service_url(stack.database_url, role=booking, password="not its password")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(_database(wrong, booking))


async def test_kith_up_provisions_every_service_with_a_password_of_its_own(
    stack: Stack, tmp_path: Path
) -> None:
    urls = await embedded_service_urls(stack.database_url, tmp_path)
    assert set(urls) == {"booking", "trust", "partners", "ops", "notify", "ledger"}
    for service, url in urls.items():
        parts = urlsplit(url)
        assert parts.username == f"kith_{service}"
        secret = tmp_path / f"postgres-{service}-password"
        assert parts.password == secret.read_text().strip()
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        connection = await asyncpg.connect(_database(url, f"kith_{service}"))
        try:
            owner = await connection.fetchval(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            )
            assert owner == f"kith_{service}"
        finally:
            await connection.close()
    # Again, as on every start: nothing fails, the same URLs.
    assert await embedded_service_urls(stack.database_url, tmp_path) == urls
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(_database(urls["booking"], "kith_trust"))
