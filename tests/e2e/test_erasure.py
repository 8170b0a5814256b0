"""Deleting an account end to end, through `kith up`'s real processes (booking, matching, trust
and the partners gateway), the real broker and the real databases: afterwards no row of
booking's, trust's or the gateway's databases holds anything personal of the person, the
helper of their upcoming visit was told at once, their pairs ended, and a partner reading the
people stream was told whom to forget."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from kith.client import send
from kith.running import running_kith
from shared.contracts.topics import PEOPLE
from tests.conftest import Stack
from tests.e2e.support import Api, book_first_request, new_street
from tests.integration.booking.support import listening
from tests.integration.partners.receiver import receiving
from tests.integration.partners.support import Reader
from tests.support import eventually
from tests.traces import traces

pytestmark = pytest.mark.e2e


def _database(stack: Stack, service: str) -> str:
    return urlunsplit(urlsplit(stack.database_url)._replace(path=f"/kith_{service}"))


async def _fetchval(stack: Stack, service: str, query: str, *args: object) -> Any:
    conn = await asyncpg.connect(_database(stack, service))
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def _traces(stack: Stack, service: str, markers: list[str]) -> list[str]:
    conn = await asyncpg.connect(_database(stack, service))
    try:
        return await traces(conn, markers)
    finally:
        await conn.close()


async def test_after_deletion_nothing_personal_remains_and_the_other_side_is_told(
    own_stack: Stack, tmp_path: Path
) -> None:
    # A broker and database of its own: on a test worker's shared broker, matching first
    # reads every earlier test's history (see ``fresh_stack``).
    stack = own_stack
    run = uuid.uuid4().hex[:8]
    async with (
        receiving() as receiver,
        running_kith(
            bootstrap=stack.bootstrap,
            database_url=stack.database_url,
            state_dir=tmp_path,
            services=("booking", "matching", "trust", "partners"),
            env={"KITH_REGULAR_HOLD_S": "30"},
            ready_timeout_s=90,
        ) as kith,
        httpx.AsyncClient(base_url=kith.api, timeout=10) as http,
        httpx.AsyncClient(base_url=kith.partners, timeout=10) as gateway,
    ):
        operator = {"Authorization": f"Bearer {kith.operator_token}"}
        api = Api(kith.api, operator, stack.bootstrap)
        partner = await send(
            gateway,
            "POST",
            "/v1/partners",
            operator,
            json={
                "name": f"Council {run}",
                "scopes": {
                    "read_streams": [PEOPLE.name],
                    "fields": {"person.profile_changed": ["person_id", "display_name"]},
                },
                "webhook_url": f"{receiver.url}/council",
            },
        )
        street = await new_street(http, api)
        neighbour = street.neighbour
        # What only this person's data holds, to look for afterwards.
        me = await send(http, "GET", "/v1/me", neighbour.headers)
        marks = {
            "name": f"Wilhelmina {run}",
            "email": me["email"],
            "address": f"{run} Quince Lane",
            "phone": f"+44 7700 {run[:6]}",
            "accessibility": f"steep steps {run}",
            "notes": f"ring twice {run}",
        }
        await send(
            http,
            "PATCH",
            "/v1/me",
            neighbour.headers,
            json={
                "display_name": marks["name"],
                "accessibility_notes": marks["accessibility"],
                "home": {
                    "lat": me["home"]["lat"],
                    "lng": me["home"]["lng"],
                    "address": marks["address"],
                    "phone": marks["phone"],
                },
            },
        )
        helper, booking_id = await book_first_request(http, street)
        later = (datetime.now(UTC) + timedelta(days=2)).replace(
            hour=15, minute=0, second=0, microsecond=0
        )
        await send(
            http,
            "POST",
            "/v1/requests",
            neighbour.headers,
            json={
                "skill": "shopping",
                "starts_at": later.isoformat(),
                "hours": 1,
                "notes": marks["notes"],
            },
        )

        async def everyone_holds_them() -> bool:
            in_trust = await _fetchval(
                stack,
                "trust",
                "SELECT count(*) > 0 FROM relationships WHERE neighbour_id = $1",
                uuid.UUID(neighbour.person_id),
            )
            delivered = any(marks["name"].encode() in r.body for r in receiver.requests)
            return bool(in_trust) and delivered

        await eventually(
            everyone_holds_them, timeout_s=30, what="trust's pair and the partner's copy"
        )

        async with (
            Reader(stack.bootstrap, partner["feed_topic"]) as feed,
            httpx.AsyncClient(base_url=kith.api, timeout=30) as streams,
            listening(streams, helper.headers) as (helper_side,),
        ):
            deleted = await http.request(
                "DELETE", "/v1/me", headers=neighbour.headers, json={"password": "demo-password"}
            )
            assert deleted.status_code == 204, deleted.text
            # The offer of the neighbour's later request may reach the helper first: matching
            # makes it whenever it reads the request. Nothing else may.
            told = await helper_side.next()
            while told[0] == "offer.received":
                told = await helper_side.next()
            assert told == ("booking.cancelled", {"booking_id": booking_id})
            assert (await http.get("/v1/me", headers=neighbour.headers)).status_code == 401
            # Other erasures may be on the stream too: this person's is the one.
            await feed.wait_for(
                lambda r: (
                    r.topic == partner["feed_topic"]
                    and json.loads(r.value)["type"] == "person.erased"
                    and json.loads(r.value)["data"].get("person_id") == neighbour.person_id
                ),
                what="the partner told whom to forget",
            )

        async def forgotten_everywhere() -> bool:
            person = uuid.UUID(neighbour.person_id)
            ended = await _fetchval(
                stack,
                "trust",
                "SELECT bool_and(stage = 'ended') AND count(*) > 0 FROM relationships"
                " WHERE neighbour_id = $1",
                person,
            )
            in_trust = await _fetchval(
                stack, "trust", "SELECT count(*) FROM erased_people WHERE person_id = $1", person
            )
            in_partners = await _fetchval(
                stack,
                "partners",
                "SELECT count(*) FROM erased_people WHERE person_id = $1",
                person,
            )
            return bool(ended) and in_trust == 1 and in_partners == 1

        await eventually(forgotten_everywhere, timeout_s=30, what="trust and partners to erase")
        visit = await send(http, "GET", f"/v1/bookings/{booking_id}", helper.headers)
        assert visit["status"] == "cancelled"

    left = {
        service: await _traces(stack, service, list(marks.values()))
        for service in ("booking", "trust", "partners")
    }
    assert left == {"booking": [], "trust": [], "partners": []}
