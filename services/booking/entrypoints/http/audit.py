"""Every operator action and every operator view of personal details goes on record.

``recorded`` wraps what a route does in one transaction with its audit entry: the entry is
written only when the action succeeds, and an action never succeeds without its entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Query

from services.booking.domain.operators import Acting
from services.booking.entrypoints.http.dependencies import Context
from services.booking.entrypoints.http.schemas import TEXT_PATTERN
from shared.contracts import utc_now

#: Why an operator opens someone's personal details; kept with the entry of the view.
ViewReason = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=500,
        # Kept in PostgreSQL text, which holds no NUL: refused as a 422, not a failed view.
        pattern=TEXT_PATTERN,
        description="Why you are looking (kept in the audit trail with the view).",
    ),
]


@asynccontextmanager
async def recorded(
    ctx: Context,
    who: Acting,
    action: str,
    *,
    subject_kind: str | None = None,
    subject_id: object = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Run the body in one transaction with the audit entry ``action``; the body may add to
    the yielded details (what it found or decided)."""
    extra: dict[str, Any] = dict(details or {})
    async with ctx.uow.outer() as repo:
        yield extra
        await repo.audit(
            who,
            action,
            utc_now(),
            subject_kind=subject_kind,
            subject_id=subject_id,
            reason=reason,
            details=extra,
        )
