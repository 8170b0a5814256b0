"""Deleting an account (by its owner or an operator) and downloading what Kith holds.

Through the real API, the real broker and booking's real database: after an erasure no row of
booking's holds the person's name, email, address, phone, notes or texts; their upcoming
visit is called off and the other side told; their tokens stop at once; ``PersonErased``
reaches the people stream; their email may sign up again.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from shared.contracts import Envelope, pair_key
from shared.contracts.bookings import BookingCancelled
from shared.contracts.people import PersonErased
from shared.contracts.redaction import ERASED_TEXT
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import BOOKINGS, DEAD_LETTERS, PEOPLE, REQUESTS, STANDING
from shared.contracts.trust import RelationshipChanged, RelationshipStage, StandingChanged
from shared.geo import neighbourhood_of
from tests.conftest import Stack
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import (
    Listener,
    TopicReader,
    ask,
    assert_limited,
    booked,
    client_at,
    future_hour,
    listening,
    served,
    sign_up,
    two_processes,
)
from tests.support import eventually
from tests.traces import traces

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
PASSWORD = "a long enough password"


@contextlib.asynccontextmanager
async def told(booking: Booking, headers: dict[str, str]) -> AsyncIterator[Listener]:
    """One person's notices, over a real server (a stream needs one)."""
    async with (
        served(booking.runtime.app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
        listening(client, headers) as (listener,),
    ):
        yield listener


def _markers(run: str) -> dict[str, str]:
    """Words only this person's data holds, to look for afterwards."""
    return {
        "name": f"Wilhelmina {run}",
        "email": f"wilhelmina.{run}@example.org",
        "address": f"{run} Quince Lane",
        "phone": f"+44 7700 {run[:6]}",
        "accessibility": f"steep steps {run}",
        "request_notes": f"ring twice {run}",
        "concern": f"shouted at me {run}",
        "my_note": f"kind visit {run}",
        "note_about_me": f"chatty neighbour {run}",
    }


async def _sign_up_marked(client: httpx.AsyncClient, marks: dict[str, str]) -> tuple[str, Any]:
    person_id, headers = await sign_up(
        client,
        marks["name"],
        email=marks["email"],
        home={"lat": 51.5, "lng": -0.1, "address": marks["address"], "phone": marks["phone"]},
    )
    patched = await client.patch(
        "/v1/me", headers=headers, json={"accessibility_notes": marks["accessibility"]}
    )
    assert patched.status_code == 200, patched.text
    return person_id, headers


async def _completed_visit(
    booking: Booking, neighbour: dict[str, str], helper_id: str, helper: dict[str, str]
) -> str:
    booking_id = await booked(
        booking.client, booking.runtime.uow, neighbour, helper_id, helper, future_hour(days=1)
    )
    for step in ("check-in", "check-out"):
        response = await booking.client.post(f"/v1/bookings/{booking_id}/{step}", headers=helper)
        assert response.status_code == 200, response.text
    return booking_id


async def _check_in(
    client: httpx.AsyncClient, booking_id: str, headers: dict[str, str], note: str
) -> None:
    response = await client.post(
        f"/v1/bookings/{booking_id}/check-ins",
        headers=headers,
        json={"see_again": "yes", "as_agreed": "yes", "note": note},
    )
    assert response.status_code == 201, response.text


async def test_deleting_an_account_needs_its_password(booking: Booking) -> None:
    _, headers = await sign_up(booking.client, "Prudence")

    wrong = await booking.client.request(
        "DELETE", "/v1/me", headers=headers, json={"password": "not the password"}
    )
    missing = await booking.client.request("DELETE", "/v1/me", headers=headers, json={})
    anonymous = await booking.client.request("DELETE", "/v1/me", json={"password": PASSWORD})

    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "password" in wrong.json()["detail"]
    assert missing.status_code == 422
    assert anonymous.status_code == 401
    assert (await booking.client.get("/v1/me", headers=headers)).status_code == 200


async def test_a_deleted_account_leaves_nothing_personal_in_booking(
    booking: Booking, stack: Stack
) -> None:
    run = uuid.uuid4().hex[:8]
    marks = _markers(run)
    person_id, me = await _sign_up_marked(booking.client, marks)
    helper_id, helper = await sign_up(booking.client, "Horace")
    other_helper_id, other_helper = await sign_up(booking.client, "Ottilie")
    availability = await booking.client.put(
        "/v1/me/availability",
        headers=me,
        json={"rules": [{"weekday": "monday", "start": "09:00", "end": "12:00"}]},
    )
    assert availability.status_code == 200, availability.text
    # A visit that happened, with both sides' private notes, and a concern the person raised.
    past = await _completed_visit(booking, me, helper_id, helper)
    await _check_in(booking.client, past, me, marks["my_note"])
    await _check_in(booking.client, past, helper, marks["note_about_me"])
    concern = await booking.client.post(
        "/v1/concerns",
        headers=me,
        json={"about_id": helper_id, "booking_id": past, "summary": marks["concern"]},
    )
    assert concern.status_code == 201, concern.text
    # An upcoming visit, as neighbour, and a request nobody has booked yet, with notes.
    upcoming = await booked(
        booking.client, booking.runtime.uow, me, other_helper_id, other_helper, future_hour(3)
    )
    waiting = await ask(booking.client, me, future_hour(days=4), notes=marks["request_notes"])
    waiting_id = waiting["occurrences"][0]["request_id"]
    cancelled_by_me = await booked(
        booking.client, booking.runtime.uow, me, other_helper_id, other_helper, future_hour(5)
    )
    earlier = await booking.client.post(
        f"/v1/bookings/{cancelled_by_me}/cancel", headers=me, json={"reason": marks["concern"]}
    )
    assert earlier.status_code == 200, earlier.text

    async with told(booking, other_helper) as other_side:
        deleted = await booking.client.request(
            "DELETE", "/v1/me", headers=me, json={"password": PASSWORD}
        )
        assert deleted.status_code == 204, deleted.text
        # The other side of the upcoming visit is told at once.
        kind, data = await other_side.next()
    assert (kind, data) == ("booking.cancelled", {"booking_id": upcoming})

    # The tokens stop at once; the email no longer signs in.
    assert (await booking.client.get("/v1/me", headers=me)).status_code == 401
    signed_in = await booking.client.post(
        "/v1/sessions", json={"email": marks["email"], "password": PASSWORD}
    )
    assert signed_in.status_code == 401
    # The visit is off for the other side too, and the open request is withdrawn.
    seen = await booking.client.get(f"/v1/bookings/{upcoming}", headers=other_helper)
    assert seen.json()["status"] == "cancelled"
    async with booking.runtime.uow.read() as repo:
        request = await repo.request(uuid.UUID(waiting_id))
    assert request is not None
    assert request["status"] == "cancelled"

    # Nothing personal is left in any table of booking's, kept events included.
    async with booking.runtime.uow.read() as repo:
        left = await traces(repo.conn, marks.values())
        kept = await repo.conn.fetchval(
            "SELECT count(*) FROM outbox WHERE position(convert_to($1, 'UTF8') IN envelope) > 0",
            ERASED_TEXT,
        )
    assert left == []
    # The profile event is kept, its name redacted; a concern's event carries no text at all.
    assert kept >= 1, "the profile event is kept, redacted"

    async with TopicReader(stack.bootstrap, PEOPLE.name) as people:
        (erased,) = await people.wait_for(
            lambda e: isinstance(e.data, PersonErased) and str(e.data.person_id) == person_id,
            what="PersonErased",
        )
    assert set(erased.data.model_dump()) == {"person_id", "neighbourhood"}
    async with TopicReader(stack.bootstrap, BOOKINGS.name) as bookings:
        await bookings.wait_for(
            lambda e: isinstance(e.data, BookingCancelled) and str(e.data.booking_id) == upcoming,
            what="the upcoming visit's cancellation",
        )
    async with TopicReader(stack.bootstrap, REQUESTS.name) as requests:
        await requests.wait_for(
            lambda e: (
                isinstance(e.data, HelpRequestCancelled) and str(e.data.request_id) == waiting_id
            ),
            what="the open request's cancellation",
        )

    # The same email is a new person now.
    again, _ = await sign_up(booking.client, "Wilhelmina", email=marks["email"])
    assert again != person_id
    operators_view = await booking.client.get(f"/v1/operator/people/{person_id}", headers=OPERATOR)
    assert operators_view.json()["kind"] == "erased"
    assert operators_view.json()["display_name"] is None


async def test_an_erased_helper_s_visit_is_asked_for_again(booking: Booking, stack: Stack) -> None:
    _, neighbour = await sign_up(booking.client, "Nettie")
    helper_id, helper = await sign_up(booking.client, "Hector")
    booking_id = await booked(
        booking.client, booking.runtime.uow, neighbour, helper_id, helper, future_hour(days=2)
    )

    async with told(booking, neighbour) as neighbour_side:
        response = await booking.client.post(
            f"/v1/operator/people/{helper_id}/erase",
            headers=OPERATOR,
            json={"reason": "asked by phone; identity checked", "operator": "sam"},
        )
        assert response.status_code == 200, response.text
        assert await neighbour_side.next() == ("booking.cancelled", {"booking_id": booking_id})

    visit = (await booking.client.get(f"/v1/bookings/{booking_id}", headers=neighbour)).json()
    assert visit["status"] == "cancelled"
    request = (
        await booking.client.get(f"/v1/requests/{visit['request_id']}", headers=neighbour)
    ).json()
    assert request["status"] == "open", "the neighbour still needs the help: it is asked again"


async def test_an_operator_erases_someone_with_the_reason_kept(booking: Booking) -> None:
    person_id, headers = await sign_up(booking.client, "Ignatius")

    no_reason = await booking.client.post(
        f"/v1/operator/people/{person_id}/erase", headers=OPERATOR, json={}
    )
    not_operator = await booking.client.post(
        f"/v1/operator/people/{person_id}/erase", headers=headers, json={"reason": "x"}
    )
    unknown = await booking.client.post(
        f"/v1/operator/people/{uuid.uuid4()}/erase", headers=OPERATOR, json={"reason": "x"}
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    assert not_operator.status_code == 403
    assert unknown.status_code == 404
    assert (await booking.client.get("/v1/me", headers=headers)).status_code == 200

    body = {"reason": "safeguarding lead's decision, ref 42", "operator": "sam"}
    first = await booking.client.post(
        f"/v1/operator/people/{person_id}/erase", headers=OPERATOR, json=body
    )
    again = await booking.client.post(
        f"/v1/operator/people/{person_id}/erase", headers=OPERATOR, json=body
    )

    assert first.status_code == 200, first.text
    assert first.json()["erased_by"] == "operator"
    assert first.json()["operator"] == "sam"
    assert again.json() == first.json(), "erasing twice changes nothing"
    assert (await booking.client.get("/v1/me", headers=headers)).status_code == 401
    async with booking.runtime.uow.read() as repo:
        record = await repo.conn.fetchrow(
            "SELECT * FROM erasures WHERE person_id = $1", uuid.UUID(person_id)
        )
    assert record is not None
    assert (record["erased_by"], record["operator"], record["reason"]) == (
        "operator",
        "sam",
        body["reason"],
    )
    assert record["erased_at"] is not None


async def test_a_person_downloads_what_kith_holds_about_them(
    booking: Booking, stack: Stack
) -> None:
    run = uuid.uuid4().hex[:8]
    marks = _markers(run)
    person_id, me = await _sign_up_marked(booking.client, marks)
    helper_id, helper = await sign_up(booking.client, "Hermione")
    visit = await _completed_visit(booking, me, helper_id, helper)
    await _check_in(booking.client, visit, me, marks["my_note"])
    await _check_in(booking.client, visit, helper, marks["note_about_me"])
    raised = await booking.client.post(
        "/v1/concerns", headers=me, json={"about_id": helper_id, "summary": marks["concern"]}
    )
    assert raised.status_code == 201
    await ask(booking.client, me, future_hour(days=6), notes=marks["request_notes"])
    # Trust's word on the person, as booking receives it from trust's streams.
    await booking.publisher.publish(
        Envelope.wrap(
            StandingChanged(person_id=uuid.UUID(person_id), suspended=False, no_shows=1),
            producer="trust",
        )
    )
    await booking.publisher.publish(
        Envelope.wrap(
            RelationshipChanged(
                pair_id=pair_key(helper_id, person_id),
                helper_id=uuid.UUID(helper_id),
                neighbour_id=uuid.UUID(person_id),
                neighbourhood=neighbourhood_of(51.5, -0.1),
                stage=RelationshipStage.FIRST_VISIT,
                visits=1,
                hours_together=2,
                both_want_again=True,
                matchable=True,
            ),
            producer="trust",
        )
    )

    async def exported() -> dict[str, Any] | None:
        response = await booking.client.get("/v1/me/export", headers=me)
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        trust = document["trust"]
        held = trust["standing"]["no_shows"] == 1 and trust["relationships"]
        return document if held else None

    document = await eventually(exported, what="trust's standing and relationship in booking")
    text = str(document)

    assert document["profile"]["person_id"] == person_id
    assert document["profile"]["home"]["address"] == marks["address"]
    assert document["profile"]["accessibility_notes"] == marks["accessibility"]
    assert document["availability"]["rules"] == []
    assert [r["notes"] for r in document["requests"]][-1] == marks["request_notes"]
    assert {b["booking_id"] for b in document["bookings"]} == {visit}
    assert [(c["booking_id"], c["note"]) for c in document["check_ins"]] == [
        (visit, marks["my_note"])
    ]
    assert [c["summary"] for c in document["concerns_raised"]] == [marks["concern"]]
    assert len(document["sessions"]) == 1
    assert set(document["sessions"][0]) == {"created_at", "expires_at"}
    assert document["trust"]["relationships"][0]["person_id"] == helper_id
    assert "vetting" in document["held_elsewhere"]["trust"]
    # Never the other person's words, nor any secret.
    assert marks["note_about_me"] not in text
    assert me["Authorization"].removeprefix("Bearer ") not in text
    assert "password" not in text
    assert helper["Authorization"].removeprefix("Bearer ") not in text


async def test_a_tombstone_on_the_standing_stream_forgets_booking_s_copy(
    booking: Booking, stack: Stack
) -> None:
    person_id, _ = await sign_up(booking.client, "Tobias")
    person = uuid.UUID(person_id)
    await booking.publisher.publish(
        Envelope.wrap(StandingChanged(person_id=person, suspended=True), producer="trust")
    )

    async def held() -> bool:
        async with booking.runtime.uow.read() as repo:
            return bool(await repo.is_suspended(person))

    await eventually(held, what="the standing applied")
    await booking.publisher.publish_raw(
        STANDING.name, value=None, key=person_id.encode(), headers=[]
    )

    async def forgotten() -> bool:
        async with booking.runtime.uow.read() as repo:
            return bool(
                await repo.conn.fetchval(
                    "SELECT count(*) = 0 FROM standing WHERE person_id = $1", person
                )
            )

    await eventually(forgotten, what="the standing forgotten")
    async with TopicReader(stack.bootstrap, DEAD_LETTERS.name) as letters:
        # A fence: a tombstone with a malformed key after it is dead-lettered, the real one not.
        await booking.publisher.publish_raw(
            STANDING.name, value=None, key=b"not-a-person", headers=[]
        )
        await letters.wait_for_raw(
            lambda r: r.key == b"not-a-person", what="the malformed tombstone dead-lettered"
        )
        assert not [r for r in letters.raw if r.key == person_id.encode()]


async def test_nothing_new_is_kept_about_someone_erased(booking: Booking) -> None:
    _, neighbour = await sign_up(booking.client, "Nicola")
    helper_id, helper = await sign_up(booking.client, "Harriet")
    visit = await _completed_visit(booking, neighbour, helper_id, helper)
    erased = await booking.client.post(
        f"/v1/operator/people/{helper_id}/erase", headers=OPERATOR, json={"reason": "asked"}
    )
    assert erased.status_code == 200, erased.text

    concern = await booking.client.post(
        "/v1/concerns",
        headers=neighbour,
        json={"about_id": helper_id, "booking_id": visit, "summary": "after they left"},
    )
    by_operator = await booking.client.post(
        "/v1/operator/concerns",
        headers=OPERATOR,
        json={"about_id": helper_id, "summary": "after they left"},
    )
    check_in = await booking.client.post(
        f"/v1/bookings/{visit}/check-ins",
        headers=neighbour,
        json={"see_again": "yes", "as_agreed": "yes", "note": "after they left"},
    )

    assert concern.status_code == 404
    assert by_operator.status_code == 404
    assert check_in.status_code == 409
    async with booking.runtime.uow.read() as repo:
        assert await traces(repo.conn, ["after they left"]) == []


async def test_a_stolen_token_cannot_guess_the_password_by_deleting(booking: Booking) -> None:
    _, headers = await sign_up(booking.client, "Gideon")
    async with two_processes(
        booking, rate_sign_in_per_address="1000/600", rate_sign_in_per_account="2/600"
    ) as (one, two):
        first, second = client_at(one, "10.11.0.1"), client_at(two, "10.11.0.2")
        for client in (first, second):
            wrong = await client.request(
                "DELETE", "/v1/me", headers=headers, json={"password": "a guess at it"}
            )
            assert wrong.status_code == 403
        # Even the right password waits now, from any address and any process.
        third = client_at(one, "10.11.0.3")
        right = await third.request(
            "DELETE", "/v1/me", headers=headers, json={"password": PASSWORD}
        )
        assert_limited(right, window_s=600)
        for client in (first, second, third):
            await client.aclose()
    assert (await booking.client.get("/v1/me", headers=headers)).status_code == 200


async def test_an_erased_token_stops_in_another_process_that_remembered_it(
    booking: Booking,
) -> None:
    _, headers = await sign_up(booking.client, "Octavia")
    async with two_processes(booking) as (other, _):
        await other.ready()
        elsewhere = client_at(other, "10.12.0.1")
        # Remembered there now: its cache would answer for a minute without asking.
        assert (await elsewhere.get("/v1/me", headers=headers)).status_code == 200

        deleted = await booking.client.request(
            "DELETE", "/v1/me", headers=headers, json={"password": PASSWORD}
        )
        assert deleted.status_code == 204

        async def refused_there() -> bool:
            return (await elsewhere.get("/v1/me", headers=headers)).status_code == 401

        await eventually(refused_there, timeout_s=10, what="the other process refusing it")
        await elsewhere.aclose()
