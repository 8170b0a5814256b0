"""Cursor pagination over a sequence column."""

from __future__ import annotations

from typing import Any

from services.booking.domain.errors import Invalid


def decode_cursor(cursor: str | None) -> int:
    """The sequence number a cursor stands for (0 for the first page)."""
    if not cursor:
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise Invalid("cursor", "not a cursor this API returned")
    return int(cursor)


def page(items: list[dict[str, Any]], limit: int, seq_key: str = "seq") -> dict[str, Any]:
    """Items plus the cursor of the next page (None at the end)."""
    more = len(items) > limit
    items = items[:limit]
    next_cursor = str(items[-1][seq_key]) if more and items else None
    for item in items:
        item.pop(seq_key, None)
    return {"items": items, "next_cursor": next_cursor}


def offset_page(items: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    """A page fetched with ``limit + 1`` rows: the items and the next offset (None at the end)."""
    return {
        "items": items[:limit],
        "next_offset": offset + limit if len(items) > limit else None,
    }
