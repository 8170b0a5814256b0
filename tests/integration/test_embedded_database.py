"""The embedded PostgreSQL runs from any folder, as root or not, and leaves its folders alone."""

from __future__ import annotations

import asyncio
import contextlib
import stat
from pathlib import Path

import asyncpg

from shared.embedded import EmbeddedPostgres
from tests.support import eventually


def _modes(folder: Path) -> dict[Path, int]:
    return {path: stat.S_IMODE(path.stat().st_mode) for path in (folder, *folder.parents)}


async def test_it_starts_restarts_and_serves_inside_a_private_folder(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "project").mkdir(mode=0o700)
    before = _modes(private / "project")
    database = EmbeddedPostgres(private / "project" / ".kith" / "postgres" / "data")
    try:
        for _ in range(2):  # the second start finds the data directory the first made
            database.start()
            conn = await asyncpg.connect(database.url)
            try:
                assert await conn.fetchval("SELECT 1") == 1
            finally:
                await conn.close()
            database.stop()
    finally:
        database.stop()
    # Nothing above the data directory was opened up for the server.
    assert _modes(private / "project") == before
    assert stat.S_IMODE(private.stat().st_mode) == 0o700


async def test_a_killed_server_starts_again_at_once_though_a_backend_was_busy(
    tmp_path: Path,
) -> None:
    # A backend busy in a query notices its postmaster's death only when the query next
    # waits: a server started while it still runs would find its shared memory in use.
    database = EmbeddedPostgres(tmp_path / "postgres" / "data")
    database.start()
    try:
        busy = await asyncpg.connect(database.url)
        query = asyncio.create_task(
            busy.fetchval("SELECT count(*) FROM generate_series(1, 2000000000)")
        )
        await eventually(lambda: _running(database.url), timeout_s=10, what="the long query")
        database.kill()
        database.start(timeout_s=15)
        conn = await asyncpg.connect(database.url)
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
        with contextlib.suppress(Exception):
            await query
        busy.terminate()
    finally:
        database.stop()


async def _running(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        running = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
            " AND query LIKE '%generate_series%' AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return bool(running == 1)
