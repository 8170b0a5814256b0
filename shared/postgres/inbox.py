"""Idempotent consumers: remember each applied event in the same transaction as its effect."""

from __future__ import annotations

import uuid

import asyncpg


async def first_delivery(conn: asyncpg.Connection, consumer: str, event_id: uuid.UUID) -> bool:
    """Record that ``consumer`` applies ``event_id``; False if it already has.

    Call inside the transaction that applies the event: if that transaction rolls back, the
    record goes with it and the redelivered event is applied then.
    """
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        event_id,
    )
    return bool(inserted)
