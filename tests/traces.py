"""Finding what a database still holds of a person: any row, in any table, that names them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy


async def traces(
    conn: asyncpg.Connection | PoolConnectionProxy[Any], markers: Iterable[str]
) -> list[str]:
    """Every ``table: row`` of the public schema whose text contains one of ``markers``.

    Searches each row as text (every column), and the bytes of each ``bytea`` column read as
    text (kept events, stored webhook bodies), case-insensitively.
    """
    patterns = [f"%{marker}%" for marker in markers]
    binary: dict[str, list[str]] = {}
    for row in await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type = 'bytea'"
    ):
        binary.setdefault(row["table_name"], []).append(row["column_name"])
    found: list[str] = []
    tables = await conn.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    for table in (row["table_name"] for row in tables):
        conditions = [f'"{table}"::text ILIKE ANY($1::text[])']
        conditions += [
            f"encode(\"{column}\", 'escape') ILIKE ANY($1::text[])"
            for column in binary.get(table, [])
        ]
        rows = await conn.fetch(
            f'SELECT "{table}"::text AS row FROM "{table}" WHERE {" OR ".join(conditions)}',
            patterns,
        )
        found += [f"{table}: {row['row'][:300]}" for row in rows]
    return found
