"""Booking's SQL for account links (email verification, password reset).

A mixin of ``Repository`` (which owns the connection and the transaction). Only a digest of
a link's token is ever stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.booking.service_layer.records import LinkRow


def _link(record: asyncpg.Record | None) -> LinkRow | None:
    if record is None:
        return None
    return LinkRow(
        link_id=record["link_id"],
        person_id=record["person_id"],
        purpose=record["purpose"],
        email=record["email"],
        expires_at=record["expires_at"],
        handed_out=record["handed_out_at"] is not None,
        used=record["used_at"] is not None,
    )


class AccountLinkQueries:
    """Links to verify an email or reset a password."""

    conn: asyncpg.Connection

    async def add_link(
        self,
        link_id: uuid.UUID,
        person_id: uuid.UUID,
        purpose: str,
        email: str | None,
        expires_at: datetime,
    ) -> None:
        """Record a link with no token yet (it is minted when notify sends it)."""
        await self.conn.execute(
            "INSERT INTO account_links (link_id, person_id, purpose, email, expires_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            link_id,
            person_id,
            purpose,
            email,
            expires_at,
        )

    async def link_for_update(self, link_id: uuid.UUID) -> LinkRow | None:
        """A link of a person not erased, locked until the transaction ends."""
        return _link(
            await self.conn.fetchrow(
                "SELECT l.* FROM account_links l JOIN people p USING (person_id)"
                " WHERE l.link_id = $1 AND p.kind <> 'erased' FOR UPDATE OF l",
                link_id,
            )
        )

    async def set_link_token(self, link_id: uuid.UUID, digest: bytes, now: datetime) -> None:
        """Keep the digest of a newly minted token (replacing an earlier one's)."""
        await self.conn.execute(
            "UPDATE account_links SET token_digest = $2, handed_out_at = $3 WHERE link_id = $1",
            link_id,
            digest,
            now,
        )

    async def link_by_token(self, digest: bytes) -> LinkRow | None:
        """The link whose token has this digest (of a person not erased), locked."""
        return _link(
            await self.conn.fetchrow(
                "SELECT l.* FROM account_links l JOIN people p USING (person_id)"
                " WHERE l.token_digest = $1 AND p.kind <> 'erased' FOR UPDATE OF l",
                digest,
            )
        )

    async def use_links(self, person_id: uuid.UUID, purpose: str, now: datetime) -> None:
        """Mark every open link of ``purpose`` of the person used: one use ends them all."""
        await self.conn.execute(
            "UPDATE account_links SET used_at = $3"
            " WHERE person_id = $1 AND purpose = $2 AND used_at IS NULL",
            person_id,
            purpose,
            now,
        )

    async def set_password_hash(self, person_id: uuid.UUID, password_hash: str) -> None:
        """Replace a person's password hash (a reset)."""
        await self.conn.execute(
            "UPDATE people SET password_hash = $2 WHERE person_id = $1", person_id, password_hash
        )

    async def mark_email_verified(self, person_id: uuid.UUID, email: str, now: datetime) -> bool:
        """Mark the person's email verified, if it is still ``email``; whether it was."""
        done = await self.conn.fetchval(
            "UPDATE people SET email_verified_at = $3"
            " WHERE person_id = $1 AND lower(email) = lower($2) RETURNING 1",
            person_id,
            email,
            now,
        )
        return done is not None
