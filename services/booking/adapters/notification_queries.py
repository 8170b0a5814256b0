"""Queries on notification preferences; the caller owns the transaction."""

from __future__ import annotations

import json
import uuid

import asyncpg

from services.booking.service_layer.records import ContactRow
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

    async def contacts(self, person_ids: list[uuid.UUID]) -> list[ContactRow]:
        """How to reach each of ``person_ids`` that has an account (not erased), with their
        preferences: one query for a whole batch of notices."""
        rows = await self.conn.fetch(
            # A phone-only account whose contact phone was taken out is still texted on the
            # number it signs in with.
            "SELECT p.person_id, p.display_name, p.email,"
            " coalesce(p.phone, p.sign_in_phone) AS phone, p.languages, p.time_zone,"
            " n.preferences, coalesce((SELECT json_agg(json_build_object('endpoint', s.endpoint,"
            " 'p256dh', s.p256dh, 'auth', s.auth) ORDER BY s.created_at)"
            " FROM push_subscriptions s WHERE s.person_id = p.person_id), '[]') AS push,"
            " (SELECT json_build_object('name', e.name, 'email', e.email, 'phone', e.phone)"
            " FROM emergency_contacts e WHERE e.person_id = p.person_id) AS emergency"
            " FROM people p LEFT JOIN notification_preferences n USING (person_id)"
            " WHERE p.person_id = ANY($1::uuid[]) AND p.kind <> 'erased'",
            person_ids,
        )
        return [
            ContactRow(
                person_id=row["person_id"],
                display_name=row["display_name"],
                email=row["email"],
                phone=row["phone"],
                languages=list(row["languages"] or []),
                time_zone=row["time_zone"],
                preferences=NotificationPreferences.model_validate_json(row["preferences"])
                if row["preferences"] is not None
                else NotificationPreferences(),
                push_subscriptions=json.loads(row["push"]),
                emergency_contact=json.loads(row["emergency"]) if row["emergency"] else None,
            )
            for row in rows
        ]

    async def add_push_subscription(
        self, person_id: uuid.UUID, endpoint: str, p256dh: str, auth: str
    ) -> uuid.UUID:
        """Keep a browser's subscription (the same endpoint again: its keys are replaced)."""
        found: uuid.UUID = await self.conn.fetchval(
            "INSERT INTO push_subscriptions (person_id, endpoint, p256dh, auth)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, endpoint)"
            " DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth"
            " RETURNING subscription_id",
            person_id,
            endpoint,
            p256dh,
            auth,
        )
        return found

    async def remove_push_subscription(
        self, person_id: uuid.UUID, subscription_id: uuid.UUID
    ) -> bool:
        """Forget one of the person's subscriptions; ``False`` when they have no such one."""
        gone = await self.conn.fetchval(
            "DELETE FROM push_subscriptions WHERE person_id = $1 AND subscription_id = $2"
            " RETURNING 1",
            person_id,
            subscription_id,
        )
        return gone is not None

    async def emergency_contact(self, person_id: uuid.UUID) -> dict[str, str | None] | None:
        """The person's emergency contact (name, email, phone), if they named one."""
        row = await self.conn.fetchrow(
            "SELECT name, email, phone FROM emergency_contacts WHERE person_id = $1", person_id
        )
        return dict(row) if row is not None else None

    async def set_emergency_contact(
        self, person_id: uuid.UUID, name: str, email: str | None, phone: str | None
    ) -> None:
        """Name (or replace) the person's emergency contact."""
        await self.conn.execute(
            "INSERT INTO emergency_contacts (person_id, name, email, phone)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO UPDATE SET"
            " name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone,"
            " updated_at = now()",
            person_id,
            name,
            email,
            phone,
        )

    async def remove_emergency_contact(self, person_id: uuid.UUID) -> None:
        """Forget the person's emergency contact."""
        await self.conn.execute("DELETE FROM emergency_contacts WHERE person_id = $1", person_id)
