"""Profiles, dated availability, series across daylight saving, reschedules, no-shows and
idempotent creates, through HTTP on the real database and broker."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.availability import next_hour
from shared.contracts.bookings import (
    BookingRescheduled,
    RescheduleProposed,
    VisitNoShow,
    WelfareCheckRequested,
)
from shared.contracts.people import AvailabilityChangedV2, PersonProfileChanged
from shared.contracts.topics import AVAILABILITY, BOOKINGS, PEOPLE
from tests.conftest import Stack
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import (
    TopicReader,
    ask,
    booked,
    future_hour,
    seed_offer,
    sign_up,
)

LONDON = ZoneInfo("Europe/London")


def _next_tuesday_before_october_change() -> datetime:
    """A Tuesday 10:00 London, three weeks before the last Sunday of October (future)."""
    year = datetime.now(UTC).year
    while True:
        last = date(year, 10, 31)
        change = last - timedelta(days=(last.weekday() + 1) % 7)  # last Sunday
        tuesday = change - timedelta(days=5 + 14)
        start = datetime(tuesday.year, tuesday.month, tuesday.day, 10, tzinfo=LONDON)
        if start > datetime.now(UTC) + timedelta(hours=1):
            return start
        year += 1


async def test_a_weekly_series_stays_at_ten_local_across_the_october_change(
    booking: Booking,
) -> None:
    _, headers = await sign_up(booking.client, "Tess")
    start = _next_tuesday_before_october_change()
    created = await ask(
        booking.client, headers, start, 1, repeat={"every": "week", "occurrences": 5}
    )
    starts = [datetime.fromisoformat(o["starts_at"]) for o in created["occurrences"]]
    assert [s.astimezone(LONDON).hour for s in starts] == [10] * 5
    assert all(s.astimezone(LONDON).weekday() == 1 for s in starts)
    utc_hours = [s.astimezone(UTC).hour for s in starts]
    assert utc_hours[:3] == [9, 9, 9]  # BST
    assert utc_hours[3:] == [10, 10]  # GMT after the change: shifted by an hour in UTC

    for occurrence in created["occurrences"]:
        one = await booking.client.get(f"/v1/requests/{occurrence['request_id']}", headers=headers)
        assert one.json()["starts_at"] == occurrence["starts_at"]

    # Cancel the whole series at once.
    cancelled = await booking.client.post(
        f"/v1/series/{created['series_id']}/cancel", headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert {o["status"] for o in cancelled.json()["occurrences"]} == {"cancelled"}


async def test_profile_changes_are_published_and_exceptions_shape_availability(
    booking: Booking, stack: Stack
) -> None:
    person_id, headers = await sign_up(booking.client, "Pat")
    patched = await booking.client.patch(
        "/v1/me",
        headers=headers,
        json={
            "display_name": "Patricia",
            "languages": ["en", "cy"],
            "accessibility_notes": "ring twice, I am slow to the door",
            "weekly_hour_cap": 9,
            "time_zone": "Europe/Paris",
        },
    )
    assert patched.status_code == 200, patched.text
    me = patched.json()
    assert (me["display_name"], me["languages"], me["weekly_hour_cap"]) == (
        "Patricia",
        ["en", "cy"],
        9,
    )
    assert me["accessibility_notes"].startswith("ring twice")
    bad = await booking.client.patch("/v1/me", headers=headers, json={"time_zone": "Nowhere/X"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "time_zone"

    paris = ZoneInfo("Europe/Paris")
    today = next_hour(datetime.now(UTC)).astimezone(paris).date()
    away_day = today + timedelta(days=8)
    extra_day = today + timedelta(days=9)
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    rules = [{"weekday": day, "start": "09:00", "end": "10:00"} for day in weekdays]
    response = await booking.client.put(
        "/v1/me/availability",
        headers=headers,
        json={
            "rules": rules,
            "exceptions": [
                {"kind": "away", "first_day": str(away_day), "last_day": str(away_day)},
                {"kind": "extra", "day": str(extra_day), "start": "15:00", "end": "17:00"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    local = [datetime.fromisoformat(h).astimezone(paris) for h in response.json()["hours"]]
    assert not [h for h in local if h.date() == away_day]
    assert sorted(h.hour for h in local if h.date() == extra_day) == [9, 15, 16]
    assert len(response.json()["exceptions"]) == 2

    async with TopicReader(stack.bootstrap, PEOPLE.name) as people:
        events = await people.wait_for(
            lambda e: (
                isinstance(e.data, PersonProfileChanged) and str(e.data.person_id) == person_id
            ),
            count=2,
            what="sign-up and changed profile",
        )
    assert isinstance(events[-1].data, PersonProfileChanged)
    assert events[-1].data.display_name == "Patricia"
    assert "ring twice" not in events[-1].model_dump_json()
    async with TopicReader(stack.bootstrap, AVAILABILITY.name) as availability:
        (event,) = await availability.wait_for(
            lambda e: (
                isinstance(e.data, AvailabilityChangedV2)
                and str(e.data.person_id) == person_id
                and e.data.time_zone == "Europe/Paris"
            ),
            what="availability with exceptions",
        )
    assert isinstance(event.data, AvailabilityChangedV2)
    assert [(a.first_day, a.last_day) for a in event.data.away] == [(away_day, away_day)]
    assert [(e.day, e.start_hour, e.end_hour) for e in event.data.extra] == [(extra_day, 15, 17)]


async def test_a_reschedule_proposed_by_one_side_moves_when_the_other_confirms(
    booking: Booking, stack: Stack
) -> None:
    _, neighbour = await sign_up(booking.client, "Rita")
    helper_id, helper = await sign_up(booking.client, "Rob")
    uow = booking.runtime.uow
    start = future_hour(days=6)
    booking_id = await booked(booking.client, uow, neighbour, helper_id, helper, start)
    # Another booking of the helper two days later: a move onto it must be refused.
    other = await booked(
        booking.client, uow, neighbour, helper_id, helper, start + timedelta(days=2)
    )
    assert other

    clash = await booking.client.post(
        f"/v1/bookings/{booking_id}/reschedule",
        headers=neighbour,
        json={"starts_at": (start + timedelta(days=2, hours=1)).isoformat()},
    )
    assert clash.status_code == 201, clash.text
    own = await booking.client.post(
        f"/v1/bookings/{booking_id}/reschedule/confirm", headers=neighbour
    )
    assert own.status_code == 409  # the proposer cannot confirm their own proposal
    refused = await booking.client.post(
        f"/v1/bookings/{booking_id}/reschedule/confirm", headers=helper
    )
    assert refused.status_code == 409
    assert "overlaps" in refused.json()["detail"]
    unchanged = (await booking.client.get(f"/v1/bookings/{booking_id}", headers=helper)).json()
    assert datetime.fromisoformat(unchanged["starts_at"]) == start

    new_start = start + timedelta(days=1, hours=3)
    proposed = await booking.client.post(
        f"/v1/bookings/{booking_id}/reschedule",
        headers=helper,
        json={"starts_at": new_start.isoformat(), "hours": 3},
    )
    assert proposed.status_code == 201, proposed.text
    view = (await booking.client.get(f"/v1/bookings/{booking_id}", headers=neighbour)).json()
    assert view["proposed_reschedule"]["proposed_by"] == "helper"
    confirmed = await booking.client.post(
        f"/v1/bookings/{booking_id}/reschedule/confirm", headers=neighbour
    )
    assert confirmed.status_code == 200, confirmed.text
    moved = (await booking.client.get(f"/v1/bookings/{booking_id}", headers=helper)).json()
    assert datetime.fromisoformat(moved["starts_at"]) == new_start
    assert moved["hours"] == 3
    assert moved["proposed_reschedule"] is None
    # The old hours were given back: a new booking there is possible.
    assert await booked(booking.client, uow, neighbour, helper_id, helper, start)

    async with TopicReader(stack.bootstrap, BOOKINGS.name) as topic:
        (event,) = await topic.wait_for(
            lambda e: (
                isinstance(e.data, BookingRescheduled) and str(e.data.booking_id) == booking_id
            ),
            what="booking.rescheduled",
        )
    assert isinstance(event.data, BookingRescheduled)
    assert (event.data.starts_at, event.data.previous_starts_at) == (new_start, start)
    assert event.data.proposed_by == "helper"

    # Each proposal went out too (ids and times), so that the other side can be told.
    async with TopicReader(stack.bootstrap, BOOKINGS.name) as topic:
        (proposal,) = await topic.wait_for(
            lambda e: (
                isinstance(e.data, RescheduleProposed)
                and str(e.data.booking_id) == booking_id
                and e.data.proposed_starts_at == new_start
            ),
            what="booking.reschedule_proposed",
        )
    assert isinstance(proposal.data, RescheduleProposed)
    assert (proposal.data.starts_at, proposal.data.hours) == (start, 2)
    assert proposal.data.proposed_hours == 3
    assert proposal.data.proposed_by == "helper"
    assert str(proposal.data.helper_id) == helper_id


async def test_no_shows_name_who_was_absent_and_a_closed_door_asks_for_a_welfare_check(
    booking: Booking, stack: Stack
) -> None:
    neighbour_id, neighbour = await sign_up(booking.client, "Nan")
    helper_id, helper = await sign_up(booking.client, "Hank")
    uow = booking.runtime.uow
    missed = await booked(booking.client, uow, neighbour, helper_id, helper, future_hour(days=8))
    closed = await booked(booking.client, uow, neighbour, helper_id, helper, future_hour(days=9))
    early = await booking.client.post(f"/v1/bookings/{missed}/no-show", headers=neighbour, json={})
    assert early.status_code == 409  # not before the visit was due
    # The visits were due an hour ago (moved back in the database: the API only books ahead).
    async with uow.begin() as repo:
        for booking_id in (missed, closed):
            await repo.update_booking(
                uuid.UUID(booking_id), starts_at=datetime.now(UTC) - timedelta(hours=1)
            )

    by_neighbour = await booking.client.post(
        f"/v1/bookings/{missed}/no-show", headers=neighbour, json={}
    )
    assert by_neighbour.status_code == 200, by_neighbour.text
    assert by_neighbour.json()["absent"] == "helper"
    by_helper = await booking.client.post(
        f"/v1/bookings/{closed}/no-show", headers=helper, json={"note": "no answer"}
    )
    assert by_helper.json()["absent"] == "neighbour"

    async with TopicReader(stack.bootstrap, BOOKINGS.name) as topic:
        (no_show,) = await topic.wait_for(
            lambda e: isinstance(e.data, VisitNoShow) and str(e.data.booking_id) == missed,
            what="visit.no_show",
        )
        (welfare,) = await topic.wait_for(
            lambda e: (
                isinstance(e.data, WelfareCheckRequested) and str(e.data.booking_id) == closed
            ),
            what="welfare.check_requested",
        )
        # A neighbour who did not answer is never published as a no-show.
        assert not [
            e
            for e in topic.seen
            if isinstance(e.data, VisitNoShow) and str(e.data.booking_id) == closed
        ]
    assert isinstance(no_show.data, VisitNoShow)
    assert (no_show.data.absent, no_show.data.reported_by) == ("helper", "neighbour")
    assert isinstance(welfare.data, WelfareCheckRequested)
    assert str(welfare.data.neighbour_id) == neighbour_id
    # The helper's note stays in booking: the event says only that there is one.
    assert welfare.data.has_note is True
    assert "no answer" not in welfare.model_dump_json()
    async with booking.runtime.uow.read() as repo:
        kept = await repo.conn.fetchval(
            "SELECT no_show_note FROM bookings WHERE booking_id = $1", uuid.UUID(closed)
        )
    assert kept == "no answer"


async def test_a_retried_create_with_the_same_key_returns_the_first_answer(
    booking: Booking,
) -> None:
    _, headers = await sign_up(booking.client, "Ida")
    key = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"skill": "company", "starts_at": future_hour(days=3).isoformat(), "hours": 1}
    first = await booking.client.post("/v1/requests", headers=key, json=body)
    again = await booking.client.post("/v1/requests", headers=key, json=body)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    mine = (await booking.client.get("/v1/requests", headers=headers)).json()["items"]
    assert len(mine) == 1

    different = await booking.client.post("/v1/requests", headers=key, json={**body, "hours": 2})
    assert different.status_code == 422
    assert different.headers["content-type"] == "application/problem+json"
    assert different.json()["errors"][0]["field"] == "Idempotency-Key"

    # Another person's same key is their own.
    _, other = await sign_up(booking.client, "Jo")
    theirs = await booking.client.post(
        "/v1/requests", headers={**other, "Idempotency-Key": key["Idempotency-Key"]}, json=body
    )
    assert theirs.status_code == 201
    assert theirs.json()["series_id"] != first.json()["series_id"]

    # Accepting twice with one key books once and answers the same both times.
    helper_id, helper = await sign_up(booking.client, "Kit")
    series = await ask(booking.client, other, future_hour(days=4))
    offer_id = await seed_offer(
        booking.runtime.uow, series["occurrences"][0]["request_id"], helper_id
    )
    accept_key = {**helper, "Idempotency-Key": "accept-" + offer_id}
    one = await booking.client.post(f"/v1/offers/{offer_id}/accept", headers=accept_key)
    two = await booking.client.post(f"/v1/offers/{offer_id}/accept", headers=accept_key)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.content == two.content
    plain = await booking.client.post(f"/v1/offers/{offer_id}/accept", headers=helper)
    assert plain.status_code == 409
