"""The embedded PostgreSQL runs from any folder, as root or not, and leaves its folders alone."""

from __future__ import annotations

import stat
from pathlib import Path

import asyncpg

from shared.embedded import EmbeddedPostgres


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
