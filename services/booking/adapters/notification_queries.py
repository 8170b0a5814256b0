"""Queries on notification preferences; the caller owns the transaction."""

from __future__ import annotations

import uuid

import asyncpg

from shared.notifications import NotificationPreferences


class NotificationQueries:
    """A person's notification preferences on ``self.conn``."""

    conn: asyncpg.Connection

    async def notification_preferences(self, person_id: uuid.UUID) -> NotificationPreferences:
        """The person's preferences; the defaults when they chose none."""
        stored = await self.conn.fetchval(
            "SELECT preferences FROM notification_preferences WHERE person_id = $1", person_id
        )
        if stored is None:
            return NotificationPreferences()
        return NotificationPreferences.model_validate_json(stored)

    async def set_notification_preferences(
        self, person_id: uuid.UUID, preferences: NotificationPreferences
    ) -> None:
        """Replace the person's preferences."""
        await self.conn.execute(
            "INSERT INTO notification_preferences (person_id, preferences) VALUES ($1, $2)"
            " ON CONFLICT (person_id) DO UPDATE SET preferences = EXCLUDED.preferences,"
            " updated_at = now()",
            person_id,
            preferences.model_dump_json(),
        )
