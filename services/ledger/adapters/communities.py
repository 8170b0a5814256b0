"""Operators' settings in the ledger's database: communities, their cells and rates, payers,
and requests to be covered from a pot."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import asyncpg

from services.ledger.adapters.postgres import _COMMUNITY, community_from
from services.ledger.domain.communities import Community


class CommunityStore:
    """Communities and pot requests over the ledger's pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def save(self, community: Community, cells: list[str] | None) -> None:
        """Create or replace a community's settings; ``cells`` (when given) become exactly
        the neighbourhood cells it covers (a cell moves from any other community)."""
        async with self._pool.acquire() as conn, conn.transaction():
            connection = cast(asyncpg.Connection, conn)
            await connection.execute(
                "INSERT INTO communities (community_id, modes, currency, payer, pot_rule,"
                " monthly_allowance_hours, late_cancel_percent, mileage_rate)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (community_id) DO UPDATE SET modes = excluded.modes,"
                " currency = excluded.currency, payer = excluded.payer,"
                " pot_rule = excluded.pot_rule,"
                " monthly_allowance_hours = excluded.monthly_allowance_hours,"
                " late_cancel_percent = excluded.late_cancel_percent,"
                " mileage_rate = excluded.mileage_rate, updated_at = now()",
                community.community_id,
                sorted(str(mode) for mode in community.modes),
                community.currency,
                community.payer,
                str(community.pot_rule),
                community.monthly_allowance_hours,
                community.late_cancel_percent,
                community.mileage_rate,
            )
            await connection.execute(
                "DELETE FROM rates WHERE community_id = $1", community.community_id
            )
            await connection.executemany(
                "INSERT INTO rates (community_id, skill, rate_per_hour) VALUES ($1, $2, $3)",
                [(community.community_id, skill, rate) for skill, rate in community.rates.items()],
            )
            if cells is not None:
                await connection.execute(
                    "DELETE FROM community_cells WHERE community_id = $1", community.community_id
                )
                await connection.executemany(
                    "INSERT INTO community_cells (neighbourhood, community_id) VALUES ($1, $2)"
                    " ON CONFLICT (neighbourhood)"
                    " DO UPDATE SET community_id = excluded.community_id",
                    [(cell, community.community_id) for cell in cells],
                )

    async def all(self) -> list[tuple[Community, list[str]]]:
        """Every community with its cells."""
        rows = await self._pool.fetch(f"{_COMMUNITY} ORDER BY c.community_id")
        cells = await self._pool.fetch("SELECT * FROM community_cells ORDER BY neighbourhood")
        by_community: dict[str, list[str]] = {}
        for cell in cells:
            by_community.setdefault(cell["community_id"], []).append(cell["neighbourhood"])
        return [(community_from(row), by_community.get(row["community_id"], [])) for row in rows]

    async def set_partner_community(self, partner_id: uuid.UUID, community_id: str | None) -> None:
        """Place a partner's referred visits in a community (``None``: by their cell again)."""
        if community_id is None:
            await self._pool.execute(
                "DELETE FROM community_partners WHERE partner_id = $1", partner_id
            )
            return
        await self._pool.execute(
            "INSERT INTO community_partners (partner_id, community_id) VALUES ($1, $2)"
            " ON CONFLICT (partner_id) DO UPDATE SET community_id = excluded.community_id",
            partner_id,
            community_id,
        )

    async def partners_by_community(self) -> dict[str, list[str]]:
        """Each community's partners (whose referred visits follow its rules)."""
        rows = await self._pool.fetch(
            "SELECT community_id, partner_id FROM community_partners ORDER BY partner_id"
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["community_id"], []).append(str(row["partner_id"]))
        return found

    async def community_of(self, neighbourhood: str) -> str:
        """The community a cell belongs to."""
        found = await self._pool.fetchval(
            "SELECT community_id FROM community_cells WHERE neighbourhood = $1", neighbourhood
        )
        return str(found or "default")

    async def exists(self, community_id: str) -> bool:
        """Whether a community is set up."""
        return bool(
            await self._pool.fetchval(
                "SELECT true FROM communities WHERE community_id = $1", community_id
            )
        )

    async def set_payer(self, neighbour_id: uuid.UUID, payer: str | None) -> None:
        """Who pays for a neighbour's paid visits (``None``: the neighbour again)."""
        if payer is None:
            await self._pool.execute("DELETE FROM payers WHERE neighbour_id = $1", neighbour_id)
            return
        await self._pool.execute(
            "INSERT INTO payers (neighbour_id, payer) VALUES ($1, $2)"
            " ON CONFLICT (neighbour_id) DO UPDATE SET payer = excluded.payer",
            neighbour_id,
            payer,
        )

    async def set_payout_account(self, owner: str, account: str) -> None:
        """The provider's id of where an owner's earnings are paid."""
        await self._pool.execute(
            "INSERT INTO provider_accounts (owner, payout_account) VALUES ($1, $2)"
            " ON CONFLICT (owner) DO UPDATE SET payout_account = excluded.payout_account",
            owner,
            account,
        )

    async def ask_pot(self, request_id: uuid.UUID, neighbour_id: uuid.UUID, community: str) -> bool:
        """A neighbour asks for a request to be covered from a pot; False if already asked."""
        return bool(
            await self._pool.fetchval(
                "INSERT INTO pot_requests (request_id, neighbour_id, community_id)"
                " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                request_id,
                neighbour_id,
                community,
            )
        )

    async def decide_pot(
        self, request_id: uuid.UUID, *, approve: bool, operator: str, at: datetime
    ) -> bool:
        """An operator approves or refuses a pending request; False if none is pending."""
        return bool(
            await self._pool.fetchval(
                "UPDATE pot_requests SET status = $2, decided_by = $3, decided_at = $4"
                " WHERE request_id = $1 AND status = 'pending' RETURNING true",
                request_id,
                "approved" if approve else "refused",
                operator,
                at,
            )
        )

    async def pot_requests(self, status: str, limit: int) -> list[dict[str, Any]]:
        """Pot requests in ``status``, oldest first."""
        rows = await self._pool.fetch(
            "SELECT request_id, neighbour_id, community_id, status, decided_by, decided_at,"
            " created_at FROM pot_requests WHERE status = $1 ORDER BY created_at LIMIT $2",
            status,
            limit,
        )
        return [dict(row) for row in rows]
