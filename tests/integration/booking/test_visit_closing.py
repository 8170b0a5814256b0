"""Visits happen at their time and close by themselves, with the shared clock moved on.

Check-in only around the visit's time, check-out only after it; a visit checked in but not
out is completed some hours after its end (its questions can then be answered); a helper not
checked in some minutes after the start is a no-show that operators see and both are told of.
Booking runs with the default windows on a movable clock that this module moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.booking.service_layer import events
from shared import clock
from shared.contracts import Envelope
from shared.contracts.bookings import Side, VisitCompleted, VisitNoShowV2
from shared.contracts.topics import BOOKINGS
from shared.settings import Settings
from tests.conftest import Stack
from tests.integration.booking.conftest import Booking, running_booking
from tests.integration.booking.support import (
    TopicReader,
    ask,
    listening,
    offer_for,
    served,
    sign_up,
)
from tests.support import eventually


def _default(name: str) -> int:
    value = Settings.model_fields[name].default
    assert isinstance(value, int)
    return value


OPENS_BEFORE_S = _default("check_in_opens_before_s")
CLOSE_AFTER_S = _default("visit_close_after_s")
NO_SHOW_AFTER_S = _default("no_show_after_s")


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This process's clock made movable (booking runs in it), real time again afterwards."""
    path = tmp_path_factory.mktemp("clock") / "clock"
    clock.install(path)
    try:
        yield path
    finally:
        clock.install(None)


@pytest.fixture(scope="module")
async def booking(stack: Stack, clock_file: Path) -> AsyncIterator[Booking]:
    async with running_booking(stack) as running:
        yield running


def _hour_ahead(days: int) -> datetime:
    """A whole hour ``days`` on from the clock's present."""
    return clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=days, hours=1)


def _move_to(clock_file: Path, moment: datetime) -> None:
    ahead = moment - clock.now()
    assert ahead > timedelta(0)
    clock.advance(clock_file, ahead)


async def _booked(booking: Booking, starts_at: datetime) -> tuple[str, dict[str, str], Any]:
    """A confirmed visit at ``starts_at``: its id, the helper's and the neighbour's headers."""
    _, neighbour = await sign_up(booking.client, "Nia")
    helper_id, helper = await sign_up(booking.client, "Hamid")
    created = await ask(booking.client, neighbour, starts_at, 1)
    uow = booking.runtime.uow
    offer = await offer_for(uow, created["occurrences"][0]["request_id"], helper_id)
    # Open for a quarter of an hour of the moved clock, not of real time.
    offer = offer.model_copy(update={"expires_at": clock.now() + timedelta(minutes=15)})
    await events.apply(uow, Envelope.wrap(offer, producer="matching"))
    accepted = await booking.client.post(f"/v1/offers/{offer.offer_id}/accept", headers=helper)
    assert accepted.status_code == 201, accepted.text
    return str(accepted.json()["booking_id"]), helper, neighbour


async def _status(booking: Booking, headers: dict[str, str], booking_id: str) -> str:
    response = await booking.client.get(f"/v1/bookings/{booking_id}", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def test_check_in_is_accepted_only_around_the_visits_time(
    booking: Booking, clock_file: Path
) -> None:
    starts_at = _hour_ahead(days=1)
    booking_id, helper, _ = await _booked(booking, starts_at)

    early = await booking.client.post(f"/v1/bookings/{booking_id}/check-in", headers=helper)
    assert early.status_code == 409
    assert early.headers["content-type"].startswith("application/problem+json")
    assert "check-in opens at" in early.json()["detail"]
    out_first = await booking.client.post(f"/v1/bookings/{booking_id}/check-out", headers=helper)
    assert out_first.status_code == 409
    assert "check in before checking out" in out_first.json()["detail"]

    opens = starts_at - timedelta(seconds=OPENS_BEFORE_S)
    _move_to(clock_file, opens + timedelta(minutes=1))
    arrived = await booking.client.post(f"/v1/bookings/{booking_id}/check-in", headers=helper)
    assert arrived.status_code == 200, arrived.text
    left = await booking.client.post(f"/v1/bookings/{booking_id}/check-out", headers=helper)
    assert left.status_code == 200, left.text
    assert await _status(booking, helper, booking_id) == "completed"


async def test_a_visit_not_checked_out_is_completed_hours_after_its_end(
    booking: Booking, clock_file: Path, stack: Stack
) -> None:
    starts_at = _hour_ahead(days=1)
    booking_id, helper, neighbour = await _booked(booking, starts_at)
    _move_to(clock_file, starts_at)
    arrived = await booking.client.post(f"/v1/bookings/{booking_id}/check-in", headers=helper)
    assert arrived.status_code == 200, arrived.text

    async with TopicReader(stack.bootstrap, BOOKINGS.name) as topic:
        # An hour after the end the visit is still open: it may simply run late.
        _move_to(clock_file, starts_at + timedelta(hours=2))
        assert await _status(booking, helper, booking_id) == "checked_in"
        ends_at = starts_at + timedelta(hours=1)
        _move_to(clock_file, ends_at + timedelta(seconds=CLOSE_AFTER_S, minutes=1))

        async def closed() -> bool:
            return await _status(booking, helper, booking_id) == "completed"

        await eventually(closed, what="the visit sweep to complete the visit")
        (completed,) = await topic.wait_for(
            lambda e: isinstance(e.data, VisitCompleted) and str(e.data.booking_id) == booking_id,
            what="the completion trust asks its questions on",
        )
    assert isinstance(completed.data, VisitCompleted)
    assert completed.data.starts_at == starts_at
    for headers in (helper, neighbour):
        answered = await booking.client.post(
            f"/v1/bookings/{booking_id}/check-ins",
            headers=headers,
            json={"see_again": "yes", "as_agreed": "yes"},
        )
        assert answered.status_code == 201, answered.text


async def test_a_helper_not_checked_in_after_the_start_is_a_no_show_both_are_told_of(
    booking: Booking, clock_file: Path, stack: Stack
) -> None:
    starts_at = _hour_ahead(days=1)
    booking_id, helper, neighbour = await _booked(booking, starts_at)
    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        listening(client, neighbour, helper) as (nia, hamid),
        TopicReader(stack.bootstrap, BOOKINGS.name) as topic,
    ):
        # A few minutes late is no no-show.
        _move_to(clock_file, starts_at + timedelta(minutes=5))
        assert await _status(booking, helper, booking_id) == "confirmed"
        late = starts_at + timedelta(seconds=NO_SHOW_AFTER_S, minutes=1)
        _move_to(clock_file, late)
        (missed,) = await topic.wait_for(
            lambda e: isinstance(e.data, VisitNoShowV2) and str(e.data.booking_id) == booking_id,
            what="the no-show operators see",
        )
        told = ("booking.no_show", {"booking_id": booking_id})
        assert await nia.next() == told
        assert await hamid.next() == told
    assert isinstance(missed.data, VisitNoShowV2)
    assert (missed.data.absent, missed.data.reported_by) == (Side.HELPER, None)
    assert await _status(booking, neighbour, booking_id) == "no_show"
    too_late = await booking.client.post(f"/v1/bookings/{booking_id}/check-in", headers=helper)
    assert too_late.status_code == 409
