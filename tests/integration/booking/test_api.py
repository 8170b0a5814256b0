"""Accounts, authentication, validation, availability and requests, through HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.booking.service_layer import events
from shared.contracts import Envelope
from shared.contracts.people import AvailabilityChangedV2, PersonProfileChanged
from shared.contracts.requests import HelpRequestCancelled, HelpRequested, RequestUnmatched
from shared.contracts.topics import AVAILABILITY, PEOPLE, REQUESTS
from shared.weekly_hours import WeeklyHours, WeeklyRule
from tests.conftest import Stack
from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import (
    TopicReader,
    ask,
    future_hour,
    seed_offer,
    sign_up,
)

PROBLEM = "application/problem+json"


async def test_health_and_openapi_need_no_token(booking: Booking) -> None:
    assert (await booking.client.get("/health")).json() == {"status": "ok"}
    spec = (await booking.client.get("/openapi.json")).json()
    assert "/v1/offers/{offer_id}/accept" in spec["paths"]


async def test_sign_up_publishes_cells_only_and_sign_in_gives_a_working_token(
    booking: Booking, stack: Stack
) -> None:
    person_id, headers = await sign_up(booking.client, "Grace")
    me = (await booking.client.get("/v1/me", headers=headers)).json()
    assert me["person_id"] == person_id
    assert me["home"]["address"].endswith("Acacia Avenue")

    signed_in = await booking.client.post(
        "/v1/sessions", json={"email": me["email"].upper(), "password": "a long enough password"}
    )
    assert signed_in.status_code == 200
    token = signed_in.json()["token"]
    again = await booking.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert again.json()["person_id"] == person_id

    wrong = await booking.client.post(
        "/v1/sessions", json={"email": me["email"], "password": "not the password"}
    )
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == PROBLEM

    taken = await booking.client.post(
        "/v1/people",
        json={
            "display_name": "Copy",
            "email": me["email"],
            "password": "another password",
            "home": {"lat": 51.5, "lng": -0.1, "address": "1 Road"},
            "time_zone": "Europe/London",
        },
    )
    assert taken.status_code == 409

    async with TopicReader(stack.bootstrap, PEOPLE.name) as people:
        (event,) = await people.wait_for(
            lambda e: (
                isinstance(e.data, PersonProfileChanged) and str(e.data.person_id) == person_id
            ),
            what="the profile event",
        )
    assert isinstance(event.data, PersonProfileChanged)
    assert event.data.neighbourhood == me["neighbourhood"]
    raw = event.model_dump_json()
    assert "Acacia" not in raw
    assert "+44" not in raw


async def test_no_token_or_a_bad_one_is_a_401_problem(booking: Booking) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await booking.client.get("/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["status"] == 401
        assert body["title"]
        assert body["detail"]


async def test_a_start_not_on_the_hour_is_a_422_naming_the_field(booking: Booking) -> None:
    _, headers = await sign_up(booking.client, "Val")
    starts = future_hour().replace(minute=30).isoformat()
    response = await booking.client.post(
        "/v1/requests", headers=headers, json={"skill": "shopping", "starts_at": starts, "hours": 1}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert [error["field"] for error in body["errors"]] == ["starts_at"]
    assert "on the hour" in body["errors"][0]["reason"]

    bad_zone = await booking.client.post(
        "/v1/people",
        json={
            "display_name": "Zed",
            "email": f"zed-{uuid.uuid4().hex}@example.org",
            "password": "long enough!",
            "home": {"lat": 51.5, "lng": -0.1, "address": "1 Road"},
            "time_zone": "Mars/Olympus",
        },
    )
    assert bad_zone.status_code == 422
    assert bad_zone.json()["errors"][0]["field"] == "time_zone"

    past = await booking.client.post(
        "/v1/requests",
        headers=headers,
        json={"skill": "shopping", "starts_at": "2020-01-01T10:00:00+00:00", "hours": 1},
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "starts_at"


async def test_availability_expands_to_utc_hours_and_is_published(
    booking: Booking, stack: Stack
) -> None:
    person_id, headers = await sign_up(booking.client, "Hal")
    rules = [{"weekday": "tuesday", "start": "10:00", "end": "12:00"}]
    response = await booking.client.put(
        "/v1/me/availability", headers=headers, json={"rules": rules}
    )
    assert response.status_code == 200, response.text
    hours = [datetime.fromisoformat(hour) for hour in response.json()["hours"]]
    assert 7 <= len(hours) <= 10  # four or five Tuesdays, two hours each
    assert all(hour.minute == 0 for hour in hours)
    assert all(hour.weekday() == 1 for hour in hours)

    stored = (await booking.client.get("/v1/me/availability", headers=headers)).json()
    assert stored["rules"] == rules
    assert len(stored["hours"]) == len(hours)

    backwards = await booking.client.put(
        "/v1/me/availability",
        headers=headers,
        json={"rules": [{"weekday": "monday", "start": "12:00", "end": "10:00"}]},
    )
    assert backwards.status_code == 422

    async with TopicReader(stack.bootstrap, AVAILABILITY.name) as topic:
        (event,) = await topic.wait_for(
            lambda e: (
                isinstance(e.data, AvailabilityChangedV2) and str(e.data.person_id) == person_id
            ),
            what="the availability event",
        )
    # The rules travel, not a horizon's hours: they hold for any date until changed.
    assert isinstance(event.data, AvailabilityChangedV2)
    assert event.data.time_zone == "Europe/London"
    assert [(r.weekday, r.start_hour, r.end_hour) for r in event.data.rules] == [
        ("tuesday", 10, 12)
    ]
    weekly = WeeklyHours(
        event.data.time_zone,
        rules=tuple(WeeklyRule(r.weekday, r.start_hour, r.end_hour) for r in event.data.rules),
    )
    assert all(hour in weekly for hour in hours)
    assert hours[0] + timedelta(weeks=52) in weekly


async def test_a_weekly_request_publishes_one_event_per_occurrence(
    booking: Booking, stack: Stack
) -> None:
    neighbour_id, headers = await sign_up(booking.client, "Nell")
    response = await booking.client.post(
        "/v1/requests",
        headers=headers,
        json={
            "skill": "company",
            "starts_at": future_hour(days=2).isoformat(),
            "hours": 2,
            "repeat": {"every": "week", "occurrences": 3},
            "notes": "tea and a chat",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    ids = {occurrence["request_id"] for occurrence in created["occurrences"]}
    assert len(ids) == 3

    async with TopicReader(stack.bootstrap, REQUESTS.name) as topic:
        events = await topic.wait_for(
            lambda e: isinstance(e.data, HelpRequested) and str(e.data.request_id) in ids,
            count=3,
            what="three HelpRequested",
        )
        payloads = [e.data for e in events if isinstance(e.data, HelpRequested)]
        assert {str(p.series_id) for p in payloads} == {created["series_id"]}
        assert sorted(p.occurrence for p in payloads) == [1, 2, 3]
        assert {str(p.neighbour_id) for p in payloads} == {neighbour_id}

        first = created["occurrences"][0]["request_id"]
        one = (await booking.client.get(f"/v1/requests/{first}", headers=headers)).json()
        assert one["status"] == "open"
        assert one["offers_made"] == 0

        page = (await booking.client.get("/v1/requests?limit=2", headers=headers)).json()
        assert len(page["items"]) == 2
        assert page["next_cursor"]
        rest = (
            await booking.client.get(
                f"/v1/requests?limit=2&cursor={page['next_cursor']}", headers=headers
            )
        ).json()
        assert len(rest["items"]) == 1
        assert rest["next_cursor"] is None

        _, stranger = await sign_up(booking.client, "Stranger")
        hidden = await booking.client.get(f"/v1/requests/{first}", headers=stranger)
        assert hidden.status_code == 404
        assert (
            await booking.client.post(f"/v1/requests/{first}/cancel", headers=stranger)
        ).status_code == 404

        cancelled = await booking.client.post(f"/v1/requests/{first}/cancel", headers=headers)
        assert cancelled.json()["status"] == "cancelled"
        await topic.wait_for(
            lambda e: isinstance(e.data, HelpRequestCancelled) and str(e.data.request_id) == first,
            what="HelpRequestCancelled",
        )


async def test_operators_only_with_the_operator_token(booking: Booking) -> None:
    person_id, headers = await sign_up(booking.client, "Opal")
    denied = await booking.client.get("/v1/operator/requests", headers=headers)
    assert denied.status_code == 403
    operator = {"Authorization": f"Bearer {booking.settings.operator_token.get_secret_value()}"}  # type: ignore[union-attr]
    waiting = await booking.client.get("/v1/operator/requests?status=unmatched", headers=operator)
    assert waiting.status_code == 200
    step = await booking.client.post(
        f"/v1/operator/people/{person_id}/vetting-steps",
        headers=operator,
        json={"step": "identity"},
    )
    assert step.status_code == 201
    missing = await booking.client.post(
        f"/v1/operator/people/{uuid.uuid4()}/vetting-steps",
        headers=operator,
        json={"step": "identity"},
    )
    assert missing.status_code == 404


async def test_the_waiting_list_is_read_in_index_order_without_sorting_a_status(
    booking: Booking,
) -> None:
    # Planned as on a large table (where a sequential scan would not be chosen): the page
    # must come straight off an index in `seq` order, not from sorting every request in
    # that status.
    async with booking.runtime.uow.read() as repo, repo.conn.transaction():
        await repo.conn.execute("SET LOCAL enable_seqscan = off")
        await repo.conn.execute("SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(
            row[0]
            for row in await repo.conn.fetch(
                # Repository.requests_with_status's statement.
                "EXPLAIN SELECT * FROM requests WHERE status = $1 AND seq > $2"
                " ORDER BY seq LIMIT $3",
                "unmatched",
                0,
                50,
            )
        )
    assert "requests_by_status" in plan, plan
    assert "Sort" not in plan, plan


async def test_a_new_time_zone_publishes_the_weekly_hours_again_in_it(
    booking: Booking, stack: Stack
) -> None:
    person_id, headers = await sign_up(booking.client, "Zia")
    rules = [{"weekday": "friday", "start": "09:00", "end": "11:00"}]
    response = await booking.client.put(
        "/v1/me/availability", headers=headers, json={"rules": rules}
    )
    assert response.status_code == 200, response.text
    moved = await booking.client.patch(
        "/v1/me", headers=headers, json={"time_zone": "America/New_York"}
    )
    assert moved.status_code == 200, moved.text

    async with TopicReader(stack.bootstrap, AVAILABILITY.name) as topic:
        (event,) = await topic.wait_for(
            lambda e: (
                isinstance(e.data, AvailabilityChangedV2)
                and str(e.data.person_id) == person_id
                and e.data.time_zone == "America/New_York"
            ),
            what="the weekly hours in the new zone",
        )
    assert isinstance(event.data, AvailabilityChangedV2)
    assert [(r.weekday, r.start_hour, r.end_hour) for r in event.data.rules] == [("friday", 9, 11)]
    shown = (await booking.client.get("/v1/me/availability", headers=headers)).json()
    new_york = ZoneInfo("America/New_York")
    assert {datetime.fromisoformat(h).astimezone(new_york).hour for h in shown["hours"]} == {9, 10}


async def test_an_escalated_request_offered_again_is_open_again(booking: Booking) -> None:
    _, headers = await sign_up(booking.client, "Esme")
    created = await ask(booking.client, headers, future_hour(days=2), 1)
    request_id = created["occurrences"][0]["request_id"]
    uow = booking.runtime.uow
    async with uow.read() as repo:
        request = await repo.request(uuid.UUID(request_id))
    assert request is not None
    escalation = RequestUnmatched(
        request_id=request["request_id"],
        neighbour_id=request["neighbour_id"],
        neighbourhood=request["neighbourhood"],
        skill=request["skill"],
        starts_at=request["starts_at"],
        rounds=0,
        tried_helper_ids=[],
        reason="no eligible helper",
    )
    await events.apply(uow, Envelope.wrap(escalation, producer="matching"))
    seen = await booking.client.get(f"/v1/requests/{request_id}", headers=headers)
    assert seen.json()["status"] == "unmatched"

    # Supply changed: matching offers it again, so operators no longer list it as waiting.
    helper_id, helper = await sign_up(booking.client, "Hank")
    offer_id = await seed_offer(uow, request_id, helper_id)
    seen = await booking.client.get(f"/v1/requests/{request_id}", headers=headers)
    assert seen.json()["status"] == "open"
    accepted = await booking.client.post(f"/v1/offers/{offer_id}/accept", headers=helper)
    assert accepted.status_code == 201, accepted.text
