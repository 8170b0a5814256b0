"""A person's notices (``GET /v1/me/events``): theirs as offers are made, nobody else's."""

from __future__ import annotations

import httpx

from services.booking.service_layer import events
from shared.contracts import Envelope
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import (
    ask,
    future_hour,
    listening,
    offer_for,
    offer_made,
    seed_offer,
    served,
    sign_up,
)


async def test_an_offer_is_told_to_its_helper_and_neighbour_and_nobody_else(
    booking: Booking,
) -> None:
    _, neighbour = await sign_up(booking.client, "Nell")
    helper_id, helper = await sign_up(booking.client, "Hal")
    _, intruder = await sign_up(booking.client, "Mallory")
    series = await ask(booking.client, neighbour, future_hour(days=9), 1)
    request_id = series["occurrences"][0]["request_id"]
    uow = booking.runtime.uow

    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        listening(client, neighbour, helper, intruder) as (nell, hal, mallory),
    ):
        made = await offer_made(uow, request_id, helper_id)

        assert await hal.next() == (
            "offer.received",
            {"offer_id": str(made.offer_id), "request_id": request_id},
        )
        # The neighbour hears that their request was offered, not to whom.
        assert await nell.next() == ("request.offered", {"request_id": request_id})

        # A redelivered offer is no news; the intruder's first notice is their own.
        await events.apply(uow, Envelope.wrap(made, producer="matching"))
        own = await ask(booking.client, intruder, future_hour(days=10), 1)
        own_request = own["occurrences"][0]["request_id"]
        await seed_offer(uow, own_request, helper_id)
        assert await mallory.next() == ("request.offered", {"request_id": own_request})
        assert (await hal.next())[1]["request_id"] == own_request
        assert nell.notices.empty()


async def test_offers_applied_as_a_run_are_told_to_each_helper_and_once_to_the_neighbour(
    booking: Booking,
) -> None:
    _, neighbour = await sign_up(booking.client, "Nia")
    helpers = [await sign_up(booking.client, name) for name in ("Ike", "Jo")]
    series = await ask(booking.client, neighbour, future_hour(days=11), 1)
    request_id = series["occurrences"][0]["request_id"]
    uow = booking.runtime.uow

    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        listening(client, neighbour, *(headers for _, headers in helpers)) as (nia, ike, jo),
    ):
        run = [await offer_for(uow, request_id, helper_id) for helper_id, _ in helpers]
        applied = await events.apply_offers(
            uow, [Envelope.wrap(offer, producer="matching") for offer in run]
        )
        assert applied == [None, None]
        for listener, offer in zip((ike, jo), run, strict=True):
            assert await listener.next() == (
                "offer.received",
                {"offer_id": str(offer.offer_id), "request_id": request_id},
            )
        assert await nia.next() == ("request.offered", {"request_id": request_id})

        # The second offer of the run told her nothing new: her next notice is the next news.
        later = await ask(booking.client, neighbour, future_hour(days=12), 1)
        later_request = later["occurrences"][0]["request_id"]
        await seed_offer(uow, later_request, helpers[0][0])
        assert await nia.next() == ("request.offered", {"request_id": later_request})


async def test_the_stream_needs_a_signed_in_person(booking: Booking) -> None:
    response = await booking.client.get("/v1/me/events")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
