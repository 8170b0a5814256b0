"""The operators' console over the real broker: panels rebuilt from the streams, live events,
private notes withheld, and nothing at all without signing in."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.contracts import Envelope, Payload, encode, key_for, utc_now
from shared.contracts.bookings import BookingConfirmed
from shared.contracts.requests import OfferMade, RequestUnmatched
from shared.contracts.topics import CHECKINS, REQUESTS
from shared.contracts.trust import (
    AsAgreed,
    CheckInSubmitted,
    ConcernOutcome,
    ConcernRaised,
    ConcernResolved,
    RaisedBy,
    SeeAgain,
)
from shared.messaging import Publisher
from tests.conftest import Stack
from tests.integration.ops.support import RunningConsole, help_requested, running_console, somewhere
from tests.support import eventually, oversized_chunks

SECRET_NOTE = "the neighbour's private words " + secrets.token_hex(4)


@pytest.fixture(scope="module")
async def console(stack: Stack) -> AsyncIterator[RunningConsole]:
    settings = stack.settings(operator_token=secrets.token_urlsafe(16))
    async with running_console(settings) as running:
        yield running


@pytest.fixture(scope="module")
async def publisher(stack: Stack) -> AsyncIterator[Publisher]:
    publisher = Publisher(stack.settings(), client_id="test-ops")
    await publisher.start()
    yield publisher
    await publisher.stop()


@pytest.fixture
async def operator(console: RunningConsole) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in through the form, as a browser would be."""
    async with httpx.AsyncClient(base_url=console.url) as client:
        response = await client.post("/ops/login", data={"token": console.token})
        assert response.status_code == 303
        assert response.headers["location"] == "/ops"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        yield client


async def test_panels_show_who_waits_what_was_tried_and_open_concerns(
    console: RunningConsole, operator: httpx.AsyncClient, publisher: Publisher
) -> None:
    cell, neighbourhood = somewhere()
    escalated = help_requested(cell, neighbourhood)
    booked = help_requested(cell, neighbourhood)
    helper = uuid.uuid4()
    request = escalated.data
    offer = OfferMade(
        offer_id=uuid.uuid4(),
        request_id=request.request_id,
        helper_id=helper,
        neighbour_id=request.neighbour_id,
        neighbourhood=neighbourhood,
        skill=request.skill,
        starts_at=request.starts_at,
        hours=1,
        round=1,
        expires_at=utc_now() + timedelta(minutes=15),
    )
    unmatched = RequestUnmatched(
        request_id=request.request_id,
        neighbour_id=request.neighbour_id,
        neighbourhood=neighbourhood,
        skill=request.skill,
        starts_at=request.starts_at,
        rounds=1,
        tried_helper_ids=[helper],
        reason="every eligible helper declined",
    )
    confirmed = BookingConfirmed(
        booking_id=uuid.uuid4(),
        request_id=booked.data.request_id,
        helper_id=uuid.uuid4(),
        neighbour_id=booked.data.neighbour_id,
        neighbourhood=neighbourhood,
        skill=booked.data.skill,
        starts_at=booked.data.starts_at,
        hours=1,
        offer_id=uuid.uuid4(),
    )
    about = uuid.uuid4()
    still_open, resolved = uuid.uuid4(), uuid.uuid4()
    events: list[Envelope[Any]] = [
        escalated,
        booked,
        _wrap(offer),
        _wrap(unmatched),
        _wrap(confirmed),
        _wrap(_concern(still_open, about)),
        _wrap(_concern(resolved, about)),
        _wrap(
            ConcernResolved(
                concern_id=resolved,
                about_id=about,
                outcome=ConcernOutcome.REINSTATE,
                resolved_by="operator",
            )
        ),
    ]
    await publisher.publish_many(events)

    here = {"neighbourhood": neighbourhood}

    async def escalation_listed() -> dict[str, Any] | None:
        console.check_running()
        rows = (await operator.get("/ops/waiting", params=here)).json()["waiting"]
        return next((r for r in rows if r["request_id"] == str(request.request_id)), None)

    row = await eventually(escalation_listed, what="the escalated request in the waiting panel")
    assert row["status"] == "escalated"
    assert row["neighbourhood"] == neighbourhood
    assert row["tried"] == [{"helper_id": str(helper), "declined": False}]
    assert row["rounds"] == 1
    assert row["waiting_s"] >= 0

    # The booking is on another topic than the request: it may be read later.
    async def booking_seen() -> bool:
        recent = await operator.get("/ops/events/recent", params={"type": "booking.confirmed"})
        return any(
            e["data"]["booking_id"] == str(confirmed.booking_id) for e in recent.json()["events"]
        )

    await eventually(booking_seen, what="the booking in the console")
    listed_here = (await operator.get("/ops/waiting", params=here)).json()
    waiting_ids = [r["request_id"] for r in listed_here["waiting"]]
    assert waiting_ids == [str(request.request_id)], "a booked request waits no more"
    assert (listed_here["total"], listed_here["escalated"]) == (1, 1)
    everywhere = (await operator.get("/ops/waiting", params={"limit": 1})).json()
    assert len(everywhere["waiting"]) == 1
    assert everywhere["total"] >= 1

    async def concerns_seen() -> list[str] | None:
        rows = (await operator.get("/ops/concerns")).json()["concerns"]
        ids = [r["concern_id"] for r in rows if r["about_id"] == str(about)]
        done = await operator.get("/ops/events/recent", params={"type": "concern.resolved"})
        resolved_seen = any(e["data"]["concern_id"] == str(resolved) for e in done.json()["events"])
        return ids if resolved_seen else None

    assert await eventually(concerns_seen, what="the concerns") == [str(still_open)]
    listed = (await operator.get("/ops/concerns")).json()["concerns"]
    shown = next(r for r in listed if r["concern_id"] == str(still_open))
    # The summary never reaches the console: it says where an operator reads it.
    assert "summary" not in shown
    assert shown["summary_at"] == "booking: GET /v1/operator/concerns"

    figures = (await operator.get("/ops/figures")).json()
    assert figures["requests_per_hour"][-1] >= 2, "both requests count in the current hour"
    assert figures["matched"] >= 1
    assert figures["unmatched"] >= 1
    assert figures["median_time_to_match_s"] is not None
    assert figures["open_concerns"] >= 1
    assert len(figures["hours"]["histogram"]) == 6
    # No notify in this test: its line says unknown, not zero.
    assert figures["notify"] is None


async def test_events_are_streamed_live_through_the_filters(
    console: RunningConsole, operator: httpx.AsyncClient, publisher: Publisher
) -> None:
    cell, neighbourhood = somewhere()
    params = {"neighbourhood": neighbourhood, "stream": "requests"}
    async with operator.stream("GET", "/ops/events", params=params) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        elsewhere = help_requested(*somewhere())
        mine = help_requested(cell, neighbourhood)
        offer = OfferMade(
            offer_id=uuid.uuid4(),
            request_id=mine.data.request_id,
            helper_id=uuid.uuid4(),
            neighbour_id=mine.data.neighbour_id,
            neighbourhood=neighbourhood,
            skill=mine.data.skill,
            starts_at=mine.data.starts_at,
            hours=1,
            round=1,
            expires_at=utc_now() + timedelta(minutes=15),
        )
        # Sent first, each fails one filter; the stream's first event must be the last one.
        await publisher.publish_many([elsewhere, _wrap(offer)])
        await publisher.publish(mine)
        seen = await asyncio.wait_for(_next_event(lines), timeout=20)

    assert seen["event_id"] == str(mine.event_id), "only this place's requests pass"
    assert seen["type"] == "help.requested"
    assert seen["stream"] == "requests"
    assert seen["neighbourhood"] == neighbourhood
    assert str(mine.data.neighbour_id) in seen["people"]


async def test_an_old_check_ins_note_is_never_shown_and_unreadable_messages_are(
    stack: Stack, console: RunningConsole, operator: httpx.AsyncClient, publisher: Publisher
) -> None:
    _, neighbourhood = somewhere()
    helper, neighbour = uuid.uuid4(), uuid.uuid4()
    checkin = CheckInSubmitted(
        checkin_id=uuid.uuid4(),
        booking_id=uuid.uuid4(),
        author_id=neighbour,
        about_id=helper,
        helper_id=helper,
        neighbour_id=neighbour,
        neighbourhood=neighbourhood,
        see_again=SeeAgain.YES,
        as_agreed=AsAgreed.PARTLY,
    )
    # A version 1 check-in, written before notes stopped travelling: still on the topic.
    old = json.loads(encode(_wrap(checkin)))
    old["version"] = 1
    old["data"] = {**{k: v for k, v in old["data"].items() if k != "has_note"}, "note": SECRET_NOTE}
    marker = uuid.uuid4().hex
    raw = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await raw.start()
    try:
        await raw.send_and_wait(CHECKINS.name, json.dumps(old).encode(), key=key_for(checkin))
        await raw.send_and_wait(REQUESTS.name, b"\xff not an event", key=marker.encode())
    finally:
        await raw.stop()

    async def both_seen() -> list[dict[str, Any]] | None:
        found = (await operator.get("/ops/events/recent", params={"limit": 2000})).json()
        mine = [
            e
            for e in found["events"]
            if e["key"] == marker or (e["data"] or {}).get("checkin_id") == str(checkin.checkin_id)
        ]
        return mine if len(mine) == 2 else None

    shown = {e["type"]: e for e in await eventually(both_seen, what="the check-in and the junk")}
    answers = shown["checkin.submitted"]
    assert answers["data"]["see_again"] == "yes"
    assert answers["data"]["as_agreed"] == "partly"
    assert answers["data"]["has_note"] is True
    assert "note" not in answers["data"]
    assert "see_again=yes" in answers["headline"]
    junk = shown["undecodable"]
    assert junk["stream"] == "requests"
    assert junk["problem"].startswith("not JSON")
    everything = await operator.get("/ops/events/recent", params={"limit": 2000})
    assert SECRET_NOTE not in everything.text


async def test_nothing_is_shown_without_signing_in(console: RunningConsole) -> None:
    async with httpx.AsyncClient(base_url=console.url) as anonymous:
        page = await anonymous.get("/ops")
        assert page.status_code == 303
        assert page.headers["location"] == "/ops/login"
        for path in ("/ops/events", "/ops/waiting", "/ops/concerns", "/ops/figures"):
            refused = await anonymous.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["content-type"] == "application/problem+json"
        wrong = await anonymous.post("/ops/login", data={"token": "guess"})
        assert wrong.status_code == 401
        assert "not right" in wrong.text
        forged = await anonymous.get(
            "/ops/figures", headers={"Cookie": "kith_ops_session=9999999999.00"}
        )
        assert forged.status_code == 401
        bearer = await anonymous.get(
            "/ops/figures", headers={"Authorization": f"Bearer {console.token}"}
        )
        assert bearer.status_code == 200
        login = await anonymous.get("/ops/login")
        assert login.status_code == 200
        assert "script-src" in login.headers["content-security-policy"]


async def _next_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    """The data of the next server-sent event (comments and ids skipped)."""
    async for line in lines:
        if line.startswith("data: "):
            document: dict[str, Any] = json.loads(line[len("data: ") :])
            return document
    raise AssertionError("the event stream ended")


def _wrap(payload: Payload) -> Envelope[Any]:
    return Envelope.wrap(payload, producer="test")


def _concern(concern_id: uuid.UUID, about: uuid.UUID) -> ConcernRaised:
    return ConcernRaised(concern_id=concern_id, about_id=about, raised_by_role=RaisedBy.OPERATOR)


async def test_a_body_over_the_limit_is_refused_with_a_413_problem(
    console: RunningConsole,
) -> None:
    limit = console.runtime.settings.http_max_body_bytes
    async with httpx.AsyncClient(base_url=console.url) as client:
        for content in (b"token=" + b"x" * limit, oversized_chunks(limit + 1)):
            refused = await client.post(
                "/ops/login",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                content=content,
            )
            assert refused.status_code == 413
            assert refused.headers["content-type"] == "application/problem+json"
            assert str(limit) in refused.json()["detail"]


async def test_every_query_and_header_the_console_reads_is_bounded(
    operator: httpx.AsyncClient,
) -> None:
    too_long = await operator.get("/ops/events/recent", params={"type": "x" * 501})
    assert too_long.status_code == 422
    too_many = await operator.get("/ops/events/recent", params=[("stream", "s")] * 21)
    assert too_many.status_code == 422
    not_a_place = await operator.get("/ops/waiting", params={"neighbourhood": "downtown"})
    assert not_a_place.status_code == 422
    assert "downtown is not a neighbourhood cell" in not_a_place.json()["detail"]
    for limit in (0, 2001):
        refused = await operator.get("/ops/waiting", params={"limit": limit})
        assert refused.status_code == 422
    # A resume id of thousands of digits was turned into an int (and failed) before.
    huge = await operator.get("/ops/events", headers={"Last-Event-ID": "9" * 5000})
    assert huge.status_code == 422
