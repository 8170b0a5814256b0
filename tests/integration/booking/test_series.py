"""A series as one commitment, and what the helper needs to know, through booking's HTTP API
on the real database and broker, with the shared clock moved by the tests.

Booking runs in this process: the module moves its clock (``shared.clock``), so booking's
series sweep wakes and rolls series forward as weeks pass.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.booking.service_layer import events
from shared import clock
from shared.contracts import Envelope, encode
from shared.contracts.bookings import BookingCancelled, BookingConfirmed
from shared.contracts.requests import (
    HelpRequested,
    OfferMade,
    Reason,
    ReasonCode,
    SeriesChanged,
)
from shared.contracts.topics import BOOKINGS, REQUESTS
from shared.contracts.trust import StandingChanged
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import TopicReader, sign_up, vetted_helper
from tests.support import eventually


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A movable clock for this process, installed before booking starts (its sweep sleeps
    on it)."""
    path = tmp_path_factory.mktemp("clock") / "clock"
    clock.install(path)
    yield path
    clock.install(None)


@pytest.fixture(scope="module")
async def moved(clock_file: Path, booking: Booking) -> Booking:
    """Booking, started on the movable clock."""
    return booking


def hour_ahead(days: float, hour_offset: int = 0) -> datetime:
    """A whole hour some days after the clock's present."""
    base = clock.now().replace(minute=0, second=0, microsecond=0)
    return base + timedelta(days=days, hours=hour_offset)


async def offer(booking: Booking, request_id: str, helper_id: str) -> str:
    """Matching's offer of a request to a helper, applied through booking's consumer path."""
    async with booking.runtime.uow.read() as repo:
        request = await repo.request(uuid.UUID(request_id))
    assert request is not None
    made = OfferMade(
        offer_id=uuid.uuid4(),
        request_id=request["request_id"],
        helper_id=uuid.UUID(helper_id),
        neighbour_id=request["neighbour_id"],
        neighbourhood=request["neighbourhood"],
        skill=request["skill"],
        starts_at=request["starts_at"],
        hours=request["hours"],
        round=1,
        expires_at=clock.now() + timedelta(minutes=15),
        reasons=[Reason(code=ReasonCode.NEARBY, text="0.4 km away")],
    )
    await events.apply(booking.runtime.uow, Envelope.wrap(made, producer="matching"))
    return str(made.offer_id)


async def ask_weekly(
    client: httpx.AsyncClient, headers: dict[str, str], starts_at: datetime, **repeat: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/requests",
        headers=headers,
        json={
            "skill": "shopping",
            "starts_at": starts_at.isoformat(),
            "hours": 1,
            "repeat": {"every": "week", **repeat},
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def occurrences_of(
    client: httpx.AsyncClient, headers: dict[str, str], series_id: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/requests", headers=headers, params=params)).json()
        items += [item for item in page["items"] if item["series_id"] == series_id]
        cursor = page.get("next_cursor")
        if not cursor:
            return sorted(items, key=lambda item: item["occurrence"])


async def helper_bookings(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> list[dict[str, Any]]:
    response = await client.get("/v1/bookings", headers=headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    # Visits passed by a moved clock are closed by booking's visit sweep: not cancelled ones.
    return [item for item in items if item["status"] != "cancelled"]


async def test_an_open_ended_weekly_series_keeps_coming_as_the_clock_moves(
    moved: Booking, clock_file: Path
) -> None:
    client = moved.client
    _, neighbour = await sign_up(client, "Olu", languages=["cy", "en"])
    created = await ask_weekly(client, neighbour, hour_ahead(2))
    assert created["occurrences_planned"] is None  # until cancelled
    first = len(created["occurrences"])
    assert first == 6  # six weeks ahead (KITH_SERIES_HORIZON_DAYS)
    series_id = created["series_id"]

    async with TopicReader(moved.settings.require_bootstrap(), REQUESTS.name) as reader:
        clock.advance(clock_file, timedelta(days=14))

        async def rolled() -> list[dict[str, Any]] | None:
            made = await occurrences_of(client, neighbour, series_id)
            return made if len(made) >= first + 2 else None

        made = await eventually(rolled, timeout_s=20, what="two more weeks of the series")
        assert [item["occurrence"] for item in made] == list(range(1, first + 3))
        starts = [datetime.fromisoformat(item["starts_at"]) for item in made]
        assert all(
            later - earlier == timedelta(weeks=1) for earlier, later in itertools.pairwise(starts)
        )
        asked = await reader.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequested)
                and str(e.data.series_id) == series_id
                and e.data.occurrence > first
            ),
            count=2,
            what="the new occurrences asked for",
        )
    for envelope in asked:
        assert isinstance(envelope.data, HelpRequested)
        assert envelope.version == 2
        assert envelope.data.occurrences is None
        assert envelope.data.languages == ["cy", "en"]

    # Cancelling the series stops it: the clock moves on and nothing more is made.
    response = await client.post(f"/v1/series/{series_id}/cancel", headers=neighbour)
    assert response.status_code == 200, response.text
    clock.advance(clock_file, timedelta(days=14))
    # A fence: another series asked after the move is rolled by the same sweep.
    _, other = await sign_up(client, "Fence")
    fence = await ask_weekly(client, other, hour_ahead(1))
    clock.advance(clock_file, timedelta(days=7))

    async def fence_rolled() -> bool:
        return len(await occurrences_of(client, other, fence["series_id"])) > 6

    await eventually(fence_rolled, timeout_s=20, what="the fence series to roll")
    assert len(await occurrences_of(client, neighbour, series_id)) == first + 2


async def test_a_helper_takes_a_whole_series_on_with_one_answer(
    moved: Booking, clock_file: Path
) -> None:
    client = moved.client
    helper_id, helper = await vetted_helper(moved, "Grace")
    _, neighbour = await sign_up(client, "Okafor")
    start = hour_ahead(1)
    created = await ask_weekly(client, neighbour, start)
    series_id = created["series_id"]
    requests = [item["request_id"] for item in created["occurrences"]]

    # The helper is already booked elsewhere at the third week's hour: that week is not
    # theirs, and stays offered to others.
    _, elsewhere = await sign_up(client, "Elsewhere")
    clash = (
        await client.post(
            "/v1/requests",
            headers=elsewhere,
            json={
                "skill": "shopping",
                "starts_at": (start + timedelta(weeks=2)).isoformat(),
                "hours": 1,
            },
        )
    ).json()["occurrences"][0]["request_id"]
    clash_offer = await offer(moved, clash, helper_id)
    assert (
        await client.post(f"/v1/offers/{clash_offer}/accept", headers=helper)
    ).status_code == 201

    async with TopicReader(moved.settings.require_bootstrap(), BOOKINGS.name) as bookings_topic:
        offer_id = await offer(moved, requests[0], helper_id)
        # The inbox says which offers repeat, so a client offers "every time" only for them.
        inbox = (await client.get("/v1/offers", headers=helper)).json()["items"]
        repeats = {str(item["offer_id"]): item["repeats"] for item in inbox}
        assert repeats[str(offer_id)] == "week"
        assert repeats[str(clash_offer)] is None
        response = await client.post(
            f"/v1/offers/{offer_id}/accept", headers=helper, json={"scope": "series"}
        )
        assert response.status_code == 201, response.text
        taken = response.json()["series"]
        assert taken["regular_helper_id"] == helper_id
        assert set(taken["booked_request_ids"]) == set(requests[1:]) - {requests[2]}
        assert taken["not_free_request_ids"] == [requests[2]]

        statuses = {
            o["request_id"]: o["status"] for o in await occurrences_of(client, neighbour, series_id)
        }
        assert statuses[requests[2]] == "open"
        assert {statuses[r] for r in requests if r != requests[2]} == {"booked"}

        # Weeks come into range as the clock moves, and are booked with the regular.
        clock.advance(clock_file, timedelta(days=14))

        async def rolled() -> list[dict[str, Any]] | None:
            made = await occurrences_of(client, neighbour, series_id)
            return made if len(made) >= len(requests) + 2 else None

        made = await eventually(rolled, timeout_s=20, what="two more weeks of the series")
        later = made[len(requests) :]
        assert {item["status"] for item in later} == {"booked"}
        confirmed = await bookings_topic.wait_for(
            lambda e: (
                isinstance(e.data, BookingConfirmed)
                and str(e.data.request_id) in {item["request_id"] for item in later}
            ),
            count=2,
            what="the later weeks booked",
        )
        assert {str(e.data.helper_id) for e in confirmed} == {helper_id}  # type: ignore[attr-defined]

    mine = await helper_bookings(client, helper)
    series_visits = [b for b in mine if b["request_id"] in {item["request_id"] for item in made}]
    assert len(series_visits) == len(made) - 1  # every week but the one they were busy


async def test_taking_a_series_on_is_refused_when_it_has_a_regular(moved: Booking) -> None:
    client = moved.client
    first_id, first = await vetted_helper(moved, "First")
    second_id, second = await vetted_helper(moved, "Second")
    _, neighbour = await sign_up(client, "Neighbour")
    created = await ask_weekly(client, neighbour, hour_ahead(1, 3), occurrences=4)
    assert created["occurrences_planned"] == 4
    requests = [item["request_id"] for item in created["occurrences"]]
    taken = await client.post(
        f"/v1/offers/{await offer(moved, requests[0], first_id)}/accept",
        headers=first,
        json={"scope": "series"},
    )
    assert taken.status_code == 201, taken.text
    # The second helper was offered the occurrence the first could not have... here, any.
    async with moved.runtime.uow.begin() as repo:
        await repo.set_request_status(uuid.UUID(requests[3]), "open")
        await repo.conn.execute(
            "UPDATE bookings SET status = 'cancelled' WHERE request_id = $1", uuid.UUID(requests[3])
        )
        await repo.conn.execute(
            "DELETE FROM helper_hours WHERE booking_id IN"
            " (SELECT booking_id FROM bookings WHERE request_id = $1)",
            uuid.UUID(requests[3]),
        )
    refused = await client.post(
        f"/v1/offers/{await offer(moved, requests[3], second_id)}/accept",
        headers=second,
        json={"scope": "series"},
    )
    assert refused.status_code == 409, refused.text
    assert "regular" in refused.json()["detail"]
    # Nothing was booked by the refused answer.
    assert not await helper_bookings(client, second)

    one_off = await client.post(
        "/v1/requests",
        headers=neighbour,
        json={"skill": "shopping", "starts_at": hour_ahead(2, 5).isoformat(), "hours": 1},
    )
    single = one_off.json()["occurrences"][0]["request_id"]
    alone = await client.post(
        f"/v1/offers/{await offer(moved, single, second_id)}/accept",
        headers=second,
        json={"scope": "series"},
    )
    assert alone.status_code == 409
    assert "does not repeat" in alone.json()["detail"]
    bad = await client.post(
        f"/v1/offers/{await offer(moved, single, second_id)}/accept",
        headers=second,
        json={"scope": "everything"},
    )
    assert bad.status_code == 422
    assert "scope" in bad.text


async def test_stepping_back_keeps_the_notice_and_offers_the_rest_again(
    moved: Booking, clock_file: Path
) -> None:
    client = moved.client
    helper_id, helper = await vetted_helper(moved, "Bea")
    neighbour_id, neighbour = await sign_up(client, "Jones")
    created = await ask_weekly(client, neighbour, hour_ahead(2))
    series_id = created["series_id"]
    requests = [item["request_id"] for item in created["occurrences"]]
    taken = await client.post(
        f"/v1/offers/{await offer(moved, requests[0], helper_id)}/accept",
        headers=helper,
        json={"scope": "series"},
    )
    assert taken.status_code == 201, taken.text

    _, stranger = await sign_up(client, "Stranger")
    assert (
        await client.post(f"/v1/series/{series_id}/step-back", headers=stranger)
    ).status_code == 404

    async with (
        TopicReader(moved.settings.require_bootstrap(), REQUESTS.name) as requests_topic,
        TopicReader(moved.settings.require_bootstrap(), BOOKINGS.name) as bookings_topic,
    ):
        response = await client.post(
            f"/v1/series/{series_id}/step-back", headers=helper, json={"reason": "moving away"}
        )
        assert response.status_code == 200, response.text
        stepped = response.json()
        # A week's notice (KITH_SERIES_STEP_BACK_NOTICE_S): the visit in two days stays.
        assert len(stepped["kept_booking_ids"]) == 1
        assert set(stepped["offered_again_request_ids"]) == set(requests[1:])

        changed = await requests_topic.wait_for(
            lambda e: isinstance(e.data, SeriesChanged) and str(e.data.series_id) == series_id,
            count=2,
            what="the series' arrangement, taken on then stepped back from",
        )
        latest = changed[-1].data
        assert isinstance(latest, SeriesChanged)
        assert latest.regular_helper_id is None
        assert [str(h) for h in latest.stepped_back_helper_ids] == [helper_id]
        assert str(latest.neighbour_id) == neighbour_id
        again = await requests_topic.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequested) and str(e.data.request_id) in set(requests[1:])
            ),
            count=2 * (len(requests) - 1),  # asked when made, and again now
            what="the rest asked for again",
        )
        assert len({e.event_id for e in again}) == len(again)
        cancelled = await bookings_topic.wait_for(
            lambda e: (
                isinstance(e.data, BookingCancelled) and str(e.data.request_id) in set(requests[1:])
            ),
            count=len(requests) - 1,
            what="the later visits cancelled",
        )
        for envelope in cancelled:
            assert isinstance(envelope.data, BookingCancelled)
            assert envelope.data.late is False
            # The reason given stays in booking: the event does not carry it.
            assert "moving away" not in envelope.model_dump_json()
        # The reason a person gave stays in booking: it never travels on a topic.
        assert not [record for record in bookings_topic.raw if b"moving away" in record.value]
        async with moved.runtime.uow.read() as repo:
            for envelope in cancelled:
                stored = await repo.booking(envelope.data.booking_id)  # type: ignore[attr-defined]
                assert stored is not None
                assert stored["cancel_reason"] == "moving away"

    statuses = {
        o["request_id"]: o["status"] for o in await occurrences_of(client, neighbour, series_id)
    }
    assert statuses[requests[0]] == "booked"
    assert {statuses[r] for r in requests[1:]} == {"open"}
    # Later weeks are no longer booked with the helper who stepped back.
    clock.advance(clock_file, timedelta(days=7))

    async def rolled() -> list[dict[str, Any]] | None:
        made = await occurrences_of(client, neighbour, series_id)
        return made if len(made) > len(requests) else None

    made = await eventually(rolled, timeout_s=20, what="another week of the series")
    assert made[-1]["status"] == "open"
    assert (
        await client.post(f"/v1/series/{series_id}/step-back", headers=neighbour)
    ).status_code == 409  # no regular left to step back from


async def test_the_neighbour_may_step_back_from_a_regular(moved: Booking) -> None:
    client = moved.client
    helper_id, helper = await vetted_helper(moved, "Cal")
    _, neighbour = await sign_up(client, "Patel")
    created = await ask_weekly(client, neighbour, hour_ahead(1, 2), occurrences=3)
    requests = [item["request_id"] for item in created["occurrences"]]
    await client.post(
        f"/v1/offers/{await offer(moved, requests[0], helper_id)}/accept",
        headers=helper,
        json={"scope": "series"},
    )
    response = await client.post(f"/v1/series/{created['series_id']}/step-back", headers=neighbour)
    assert response.status_code == 200, response.text
    assert response.json()["stepped_back"] == "neighbour"
    assert set(response.json()["offered_again_request_ids"]) == set(requests[1:])
    # The helper who was stepped back from cannot take the series on again.
    again = await client.post(
        f"/v1/offers/{await offer(moved, requests[1], helper_id)}/accept",
        headers=helper,
        json={"scope": "series"},
    )
    assert again.status_code == 409
    assert "stepped back" in again.json()["detail"]


async def test_the_confirmed_helper_sees_the_notes_with_the_address_and_only_then(
    moved: Booking, clock_file: Path
) -> None:
    client = moved.client
    helper_id, helper = await vetted_helper(moved, "Dee")
    other_id, other = await vetted_helper(moved, "Other")
    _, neighbour = await sign_up(client, "Evans")
    patched = await client.patch(
        "/v1/me", headers=neighbour, json={"accessibility_notes": "Hard of hearing: knock loudly"}
    )
    assert patched.status_code == 200, patched.text
    async with TopicReader(moved.settings.require_bootstrap(), REQUESTS.name) as reader:
        asked = await client.post(
            "/v1/requests",
            headers=neighbour,
            json={
                "skill": "shopping",
                "starts_at": hour_ahead(4).isoformat(),
                "hours": 1,
                "notes": "The key is under the blue pot",
            },
        )
        request_id = asked.json()["occurrences"][0]["request_id"]
        raw = await reader.wait_for_raw(
            lambda record: request_id.encode() in record.value, what="the request's event"
        )
    assert b"blue pot" not in raw.value
    assert b"knock loudly" not in raw.value

    offered = await offer(moved, request_id, helper_id)
    inbox = (await client.get("/v1/offers", headers=helper)).json()["items"]
    assert "blue pot" not in str(inbox)
    assert "knock loudly" not in str(inbox)
    accepted = await client.post(f"/v1/offers/{offered}/accept", headers=helper)
    booking_id = accepted.json()["booking_id"]

    early = (await client.get(f"/v1/bookings/{booking_id}", headers=helper)).json()
    assert "notes" not in early
    assert "address" not in early["neighbour"]
    assert "blue pot" not in str(early)
    assert "knock loudly" not in str(early)
    assert (await client.get(f"/v1/bookings/{booking_id}", headers=other)).status_code == 404

    clock.advance(clock_file, timedelta(days=3))  # within KITH_ADDRESS_VISIBLE_BEFORE_S
    near = (await client.get(f"/v1/bookings/{booking_id}", headers=helper)).json()
    assert near["notes"] == "The key is under the blue pot"
    assert near["neighbour"]["accessibility_notes"] == "Hard of hearing: knock loudly"
    assert near["neighbour"]["address"]
    # The neighbour's own view of the booking is not the helper's.
    own = (await client.get(f"/v1/bookings/{booking_id}", headers=neighbour)).json()
    assert "address" not in own["neighbour"]
    del other_id


async def test_languages_travel_only_as_codes(moved: Booking) -> None:
    client = moved.client
    refused = await client.post(
        "/v1/people",
        json={
            "display_name": "Gwen",
            "email": f"gwen-{uuid.uuid4().hex[:8]}@example.org",
            "password": "a long enough password",
            "home": {"lat": 51.5, "lng": -0.1, "address": "1 Stryd Fawr"},
            "time_zone": "Europe/London",
            "languages": ["Welsh, and some Spanish"],
        },
    )
    assert refused.status_code == 422
    assert "languages" in refused.text
    _, headers = await sign_up(client, "Gwen", languages=["CY", "en"])
    async with TopicReader(moved.settings.require_bootstrap(), REQUESTS.name) as reader:
        asked = await client.post(
            "/v1/requests",
            headers=headers,
            json={"skill": "shopping", "starts_at": hour_ahead(1).isoformat(), "hours": 1},
        )
        request_id = asked.json()["occurrences"][0]["request_id"]
        [event] = await reader.wait_for(
            lambda e: isinstance(e.data, HelpRequested) and str(e.data.request_id) == request_id,
            what="the request",
        )
    assert isinstance(event.data, HelpRequested)
    assert event.data.languages == ["cy", "en"]
    assert b'"languages":["cy","en"]' in encode(event)


async def test_an_erased_neighbours_series_stops_and_an_erased_regular_is_forgotten(
    moved: Booking, clock_file: Path
) -> None:
    client = moved.client
    helper_id, helper = await vetted_helper(moved, "Eli")
    _, neighbour = await sign_up(client, "Erin")
    created = await ask_weekly(client, neighbour, hour_ahead(1, 4))
    series_id = uuid.UUID(created["series_id"])
    first = created["occurrences"][0]["request_id"]
    accepted = await client.post(
        f"/v1/offers/{await offer(moved, first, helper_id)}/accept",
        headers=helper,
        json={"scope": "series"},
    )
    assert accepted.status_code == 201, accepted.text
    exported = (await client.get("/v1/me/export", headers=neighbour)).json()
    assert [row["series_id"] for row in exported["series"]] == [str(series_id)]

    erased = await client.request(
        "DELETE", "/v1/me", headers=helper, json={"password": "a long enough password"}
    )
    assert erased.status_code in {200, 204}, erased.text
    async with moved.runtime.uow.read() as repo:
        series = await repo.series_rule(series_id)
    assert series is not None
    assert series["regular_helper_id"] is None

    erased = await client.request(
        "DELETE", "/v1/me", headers=neighbour, json={"password": "a long enough password"}
    )
    assert erased.status_code in {200, 204}, erased.text
    async with moved.runtime.uow.read() as repo:
        series = await repo.series_rule(series_id)
        made = len(await repo.series(series_id))
    assert series is not None
    assert series["status"] == "ended"
    assert series["notes"] is None
    clock.advance(clock_file, timedelta(days=14))
    _, other = await sign_up(client, "Fencetwo")
    fence = await ask_weekly(client, other, hour_ahead(1))
    clock.advance(clock_file, timedelta(days=7))

    async def fence_rolled() -> bool:
        return len(await occurrences_of(client, other, fence["series_id"])) > 6

    await eventually(fence_rolled, timeout_s=20, what="the fence series to roll")
    async with moved.runtime.uow.read() as repo:
        assert len(await repo.series(series_id)) == made


async def take_series(
    booking: Booking, request_id: str, helper: tuple[str, dict[str, str]]
) -> httpx.Response:
    """The helper is offered an occurrence and answers for the whole series."""
    helper_id, headers = helper
    return await booking.client.post(
        f"/v1/offers/{await offer(booking, request_id, helper_id)}/accept",
        headers=headers,
        json={"scope": "series"},
    )


async def set_standing(booking: Booking, person_id: str, **standing: Any) -> None:
    """Trust's word on a person, applied through booking's consumer path."""
    changed = StandingChanged(person_id=uuid.UUID(person_id), **standing)
    await events.apply(booking.runtime.uow, Envelope.wrap(changed, producer="trust"))


async def test_a_suspended_regular_releases_the_series_to_another_helper(
    moved: Booking,
) -> None:
    client = moved.client
    regular = await vetted_helper(moved, "Rhys")
    other = await vetted_helper(moved, "Siân")
    _, neighbour = await sign_up(client, "Morgan")
    created = await ask_weekly(client, neighbour, hour_ahead(2, 1), occurrences=4)
    series_id = created["series_id"]
    requests = [item["request_id"] for item in created["occurrences"]]
    taken = await take_series(moved, requests[0], regular)
    assert taken.status_code == 201, taken.text
    assert taken.json()["series"]["regular_helper_id"] == regular[0]

    async with TopicReader(moved.settings.require_bootstrap(), REQUESTS.name) as reader:
        await set_standing(moved, regular[0], suspended=True)
        changed = await reader.wait_for(
            lambda e: (
                isinstance(e.data, SeriesChanged)
                and str(e.data.series_id) == series_id
                and e.data.regular_helper_id is None
            ),
            what="the series released from its suspended regular",
        )
        # Released, not stepped back from: nothing held against them once reinstated.
        assert changed[0].data.stepped_back_helper_ids == []  # type: ignore[attr-defined]
        # Every visit of theirs is asked for again, for someone else to take on.
        await reader.wait_for(
            lambda e: isinstance(e.data, HelpRequested) and str(e.data.request_id) in requests,
            count=len(requests),
            what="the held visits asked for again",
        )
    async with moved.runtime.uow.read() as repo:
        stored = await repo.series_rule(uuid.UUID(series_id))
    assert stored is not None
    assert stored["regular_helper_id"] is None

    # Another helper offered one of them takes the whole series on.
    response = await take_series(moved, requests[1], other)
    assert response.status_code == 201, response.text
    taken_on = response.json()["series"]
    assert taken_on["regular_helper_id"] == other[0]
    assert set(taken_on["booked_request_ids"]) == set(requests[2:])
    statuses = {
        o["request_id"]: o["status"] for o in await occurrences_of(client, neighbour, series_id)
    }
    assert statuses[requests[0]] == "open"  # offered to others, not taken in this answer
    assert {statuses[r] for r in requests[1:]} == {"booked"}


async def test_a_regular_who_stepped_back_or_was_erased_leaves_the_series_to_another(
    moved: Booking,
) -> None:
    client = moved.client
    first, second, third = [await vetted_helper(moved, name) for name in ("Ann", "Ben", "Cat")]
    _, neighbour = await sign_up(client, "Dai")
    created = await ask_weekly(client, neighbour, hour_ahead(1, 6), occurrences=4)
    series_id = created["series_id"]
    requests = [item["request_id"] for item in created["occurrences"]]
    assert (await take_series(moved, requests[0], first)).status_code == 201
    stepped = await client.post(f"/v1/series/{series_id}/step-back", headers=first[1])
    assert stepped.status_code == 200, stepped.text
    offered_again = stepped.json()["offered_again_request_ids"]
    assert offered_again

    after_step_back = await take_series(moved, offered_again[0], second)
    assert after_step_back.status_code == 201, after_step_back.text
    assert after_step_back.json()["series"]["regular_helper_id"] == second[0]

    erased = await client.request(
        "DELETE", "/v1/me", headers=second[1], json={"password": "a long enough password"}
    )
    assert erased.status_code in {200, 204}, erased.text
    statuses = {
        o["request_id"]: o["status"] for o in await occurrences_of(client, neighbour, series_id)
    }
    reopened = [r for r in offered_again if statuses[r] == "open"]
    assert reopened  # the erased regular's visits are asked for again
    after_erasure = await take_series(moved, reopened[0], third)
    assert after_erasure.status_code == 201, after_erasure.text
    assert after_erasure.json()["series"]["regular_helper_id"] == third[0]


async def test_taking_a_series_on_releases_a_regular_who_can_no_longer_come(
    moved: Booking,
) -> None:
    client = moved.client
    regular = await vetted_helper(moved, "Lapsed")
    other = await vetted_helper(moved, "Fresh")
    _, neighbour = await sign_up(client, "Hughes")
    created = await ask_weekly(client, neighbour, hour_ahead(1, 8), occurrences=3)
    requests = [item["request_id"] for item in created["occurrences"]]
    assert (await take_series(moved, requests[0], regular)).status_code == 201
    # The regular calls one visit off (they stay its regular), then their approval for the
    # skill is withdrawn: they can come to none of its visits any more.
    regular_id, regular_headers = regular
    mine = await helper_bookings(client, regular_headers)
    last = next(b for b in mine if b["request_id"] == requests[2])
    cancelled = await client.post(
        f"/v1/bookings/{last['booking_id']}/cancel", headers=regular_headers, json={"reason": "x"}
    )
    assert cancelled.status_code == 200, cancelled.text
    await set_standing(moved, regular_id, suspended=False, approved_skills={})

    response = await take_series(moved, requests[2], other)
    assert response.status_code == 201, response.text
    assert response.json()["series"]["regular_helper_id"] == other[0]
