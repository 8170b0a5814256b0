"""Accounts held for an operator's review, and operators clearing them.

A sign-up whose email or phone matches someone erased while suspended starts held
(``accounts.sign_up``): booking treats it as suspended (no help asked for, no offer taken)
until an operator has looked and cleared it. Nothing of it travels on a topic: trust and
matching are not told; booking itself refuses what a held account tries.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.booking.domain.errors import Conflict, NotFound
from services.booking.domain.partners import PersonKind
from services.booking.service_layer.ports import UnitOfWork


async def pending_reviews(uow: UnitOfWork, limit: int, offset: int) -> list[dict[str, Any]]:
    """Operators: a page of the accounts waiting for review, oldest first."""
    async with uow.read() as repo:
        return await repo.pending_reviews(limit, offset)


async def clear_review(
    uow: UnitOfWork, person_id: uuid.UUID, *, now: datetime, operator: str | None, reason: str
) -> dict[str, Any]:
    """Operators: clear a held account, with the reason kept; it may then act as anyone.

    Raises:
        NotFound: No such person (or their account was deleted).
        Conflict: The account is not waiting for review.
    """
    async with uow.begin() as repo:
        person = await repo.person(person_id)
        if person is None or person["kind"] == PersonKind.ERASED:
            raise NotFound("no such person")
        if not await repo.clear_review(person_id, now, operator, reason):
            raise Conflict("this account is not waiting for review")
        suspended = await repo.is_suspended(person_id)
    return {"person_id": person_id, "review": None, "suspended": suspended}
