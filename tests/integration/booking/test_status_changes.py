"""What an offer's change of status costs the database: no new index entries, even among
many offers made after it (``030_cheaper_status_changes.sql``)."""

from __future__ import annotations

import uuid

from services.booking.service_layer import offers as use_cases
from shared import clock
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import ask, future_hour, seed_offer, sign_up

#: Offers made after the one accepted: enough to fill its page, had none been left free.
LATER_OFFERS = 80


async def test_accepting_an_offer_among_many_changes_it_without_touching_offers_indexes(
    booking: Booking,
) -> None:
    _, nia = await sign_up(booking.client, "Nia")
    ada_id, _ = await sign_up(booking.client, "Ada")
    mine = await ask(booking.client, nia, future_hour(days=5), 1)
    others = await ask(booking.client, nia, future_hour(days=6), 1)
    uow = booking.runtime.uow
    offer_id = await seed_offer(uow, mine["occurrences"][0]["request_id"], ada_id)
    for _ in range(LATER_OFFERS):
        await seed_offer(uow, others["occurrences"][0]["request_id"], str(uuid.uuid4()))

    async with uow.outer() as repo:
        page_before = await repo.conn.fetchval(
            "SELECT (ctid::text::point)[0] FROM offers WHERE offer_id = $1", uuid.UUID(offer_id)
        )
        later_on_its_page = await repo.conn.fetchval(
            "SELECT count(*) FROM offers WHERE (ctid::text::point)[0] = $1", page_before
        )
        await use_cases.accept(uow, uuid.UUID(ada_id), uuid.UUID(offer_id), clock.now())
        # This transaction's own counts: an update with no new index entries is a heap-only
        # one, and it needs room on the row's own page.
        changed = await repo.conn.fetchval(
            "SELECT pg_stat_get_xact_tuples_updated('offers'::regclass)"
        )
        heap_only = await repo.conn.fetchval(
            "SELECT pg_stat_get_xact_tuples_hot_updated('offers'::regclass)"
        )
        status = await repo.conn.fetchval(
            "SELECT status FROM offers WHERE offer_id = $1", uuid.UUID(offer_id)
        )

    assert later_on_its_page > 1  # later offers did land on its page, and left it room
    assert status == "accepted"
    assert (changed, heap_only) == (1, 1)
