"""What people and operators ask of the ledger besides visits: gifts and corrections."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.ledger.domain.postings import Kind, Mode, Posting, reversal
from services.ledger.domain.rules import gift_posting
from services.ledger.service_layer.ports import LedgerUnitOfWork, NotFound, Refused
from shared.unit_of_work import UnitOfWorkStarter


async def give_hours(
    start: UnitOfWorkStarter[LedgerUnitOfWork],
    *,
    giver: str,
    community_id: str,
    hours: int,
    now: datetime,
) -> Posting:
    """Give ``hours`` into a community's pot from the giver's time account.

    Raises:
        NotFound: no such community.
        Refused: the community does not run gifted hours.
    """
    async with start() as uow:
        community = await uow.community(community_id)
        if community is None:
            raise NotFound(f"no community {community_id!r}")
        if Mode.GIFTED not in community.modes:
            raise Refused(f"{community_id} does not take gifted hours")
        posting = gift_posting(giver, community_id, hours, occurred_at=now)
        await uow.community_of_id_lock(community_id)
        await uow.post(posting)
    return posting


async def correct(
    start: UnitOfWorkStarter[LedgerUnitOfWork], posting_id: uuid.UUID, *, memo: str, now: datetime
) -> Posting:
    """Post the reversal of a posting: entries are never edited.

    Raises:
        NotFound: no such posting.
        Refused: it is itself a correction, or was corrected already.
    """
    async with start() as uow:
        original = await uow.posting(posting_id)
        if original is None:
            raise NotFound(f"no posting {posting_id}")
        if original.kind is Kind.CORRECTION:
            raise Refused("a correction is corrected by posting the original again by hand")
        correction = reversal(original, memo=memo, occurred_at=now)
        if not await uow.post(correction):
            raise Refused(f"posting {posting_id} was corrected already")
    return correction
