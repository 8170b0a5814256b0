"""Time-driven rules through `kith up`'s real processes, with the shared clock moved weeks on.

Availability holds until changed (no horizon), visits close by themselves, escalated requests
are tried again when supply changes. The module runs one Kith on a broker and database of its
own: its clock runs weeks ahead, and what it writes must not reach the other modules' Kiths.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from kith.client import send
from kith.demo import Person, _relationship, matching_caught_up
from shared import clock
from shared.contracts.topics import AVAILABILITY
from tests.conftest import Stack
from tests.e2e.support import (
    EVERY_DAY,
    Api,
    Street,
    fresh_stack,
    kith_up,
    new_street,
    offers_of_request,
    open_offers,
    standing,
    vet_helper,
)
from tests.support import eventually

pytestmark = pytest.mark.e2e


class Moved:
    """A running Kith whose clock the test moves."""

    def __init__(self, api: Api, clock_file: Path) -> None:
        self.api = api
        self.clock_file = clock_file

    def now(self) -> datetime:
        """The present as the services see it."""
        return datetime.now(UTC) + clock.read_offset(self.clock_file)

    def advance(self, by: timedelta) -> None:
        """Move every process of this Kith ``by`` on."""
        clock.advance(self.clock_file, by)


@pytest.fixture(scope="module")
async def moved(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> AsyncIterator[Moved]:
    root = tmp_path_factory.mktemp("rolling")
    clock_file = root / "clock"
    env = {
        "KITH_CLOCK_FILE": str(clock_file),
        # Tokens must outlive the weeks the clock is moved.
        "KITH_SESSION_MAX_AGE_DAYS": "365",
        # The real check-in window (kith_up opens it days early for other tests).
        "KITH_CHECK_IN_OPENS_BEFORE_S": "1800",
    }
    async with (
        fresh_stack(stack, root) as own,
        kith_up(own, root / "state", env=env) as (url, token),
    ):
        yield Moved(Api(url, {"Authorization": f"Bearer {token}"}, own.bootstrap), clock_file)


async def relationship(
    http: httpx.AsyncClient, api: Api, neighbour: Person, helper: Person
) -> dict[str, Any] | None:
    """Trust's record of the pair once it holds a visit and both answers."""
    return await _relationship(http, api.operator, neighbour, helper)


async def escalated(http: httpx.AsyncClient, api: Api, request_id: str) -> bool:
    """Whether operators list the request as waiting (escalated)."""
    waiting = await send(http, "GET", "/v1/operator/requests?status=unmatched", api.operator)
    return any(item["request_id"] == request_id for item in waiting["items"])


async def ask_at(http: httpx.AsyncClient, neighbour: Person, starts_at: datetime) -> str:
    """An hour of help with shopping at ``starts_at``; the request's id."""
    created = await send(
        http,
        "POST",
        "/v1/requests",
        neighbour.headers,
        json={"skill": "shopping", "starts_at": starts_at.isoformat(), "hours": 1},
    )
    return str(created["occurrences"][0]["request_id"])


def eleven_utc(now: datetime, days: int) -> datetime:
    """11:00 UTC ``days`` days after ``now`` (inside every street helper's 08:00-20:00)."""
    return (now + timedelta(days=days)).replace(hour=11, minute=0, second=0, microsecond=0)


async def offered(
    http: httpx.AsyncClient, street: Street, request_id: str
) -> dict[str, dict[str, Any]]:
    """Wait until the request is offered to at least one helper; the open offers."""
    try:
        offers: dict[str, dict[str, Any]] = await eventually(
            partial(open_offers, http, street.helpers, request_id),
            what="an offer of the request",
        )
    except AssertionError as failed:
        seen = await offers_of_request(http, street, request_id)
        raise AssertionError(f"{failed}; {seen}") from None
    return offers


async def test_weekly_hours_are_offered_forty_days_ahead_and_after_six_weeks(
    moved: Moved,
) -> None:
    async with httpx.AsyncClient(base_url=moved.api.url, timeout=10) as http:
        street = await new_street(http, moved.api)
        far = await ask_at(http, street.neighbour, eleven_utc(moved.now(), 40))
        assert await offered(http, street, far)

        # Six weeks on, nobody has saved their hours again: they still hold.
        moved.advance(timedelta(weeks=6))
        soon = await ask_at(http, street.neighbour, eleven_utc(moved.now(), 2))
        assert await offered(http, street, soon)


async def book(http: httpx.AsyncClient, street: Street, starts_at: datetime) -> tuple[Person, str]:
    """The neighbour asks for ``starts_at``; the first helper offered accepts."""
    request_id = await ask_at(http, street.neighbour, starts_at)
    offers = await offered(http, street, request_id)
    helper = next(h for h in street.helpers if h.person_id in offers)
    path = f"/v1/offers/{offers[helper.person_id]['offer_id']}/accept"
    booking = await send(http, "POST", path, helper.headers)
    return helper, str(booking["booking_id"])


async def status_is(http: httpx.AsyncClient, who: Person, booking_id: str, status: str) -> bool:
    seen = await send(http, "GET", f"/v1/bookings/{booking_id}", who.headers)
    return bool(seen["status"] == status)


async def test_a_visit_nobody_checks_out_of_closes_and_the_pair_moves_on(moved: Moved) -> None:
    async with httpx.AsyncClient(base_url=moved.api.url, timeout=10) as http:
        street = await new_street(http, moved.api)
        starts_at = eleven_utc(moved.now(), 1)
        helper, booking_id = await book(http, street, starts_at)
        refused = await http.post(f"/v1/bookings/{booking_id}/check-in", headers=helper.headers)
        assert refused.status_code == 409, "a day early is outside the check-in window"

        moved.advance(starts_at - moved.now())
        await send(http, "POST", f"/v1/bookings/{booking_id}/check-in", helper.headers)
        # The helper forgets to check out; three hours after the end the visit closes.
        moved.advance(starts_at + timedelta(hours=4, minutes=1) - moved.now())
        await eventually(
            partial(status_is, http, helper, booking_id, "completed"),
            what="the visit closed by booking's sweep",
        )
        for person in (helper, street.neighbour):
            path = f"/v1/bookings/{booking_id}/check-ins"
            await send(
                http, "POST", path, person.headers, json={"see_again": "yes", "as_agreed": "yes"}
            )
        record = await eventually(
            partial(relationship, http, moved.api, street.neighbour, helper),
            what="trust to record the visit and both answers",
        )
    assert (record["stage"], record["visits"]) == ("first_visit", 1)


async def test_a_cancelled_visit_nobody_takes_again_reaches_operators_before_its_start(
    moved: Moved,
) -> None:
    async with httpx.AsyncClient(base_url=moved.api.url, timeout=10) as http:
        street = await new_street(http, moved.api)
        starts_at = eleven_utc(moved.now(), 1)
        helper, booking_id = await book(http, street, starts_at)
        visit = await send(http, "GET", f"/v1/bookings/{booking_id}", helper.headers)
        request_id = str(visit["request_id"])
        # The helper calls it off five minutes before the last two hours
        # (KITH_REOFFER_ESCALATE_BEFORE_H): it is offered again at once, to the others.
        moved.advance(starts_at - timedelta(hours=2, minutes=5) - moved.now())
        path = f"/v1/bookings/{booking_id}/cancel"
        await send(http, "POST", path, helper.headers, json={"reason": "ill"})
        offers = await offered(http, street, request_id)
        assert helper.person_id not in offers

        # Nobody answers. Six minutes on, the offers have not lapsed (they last 15), but two
        # hours before the start the visit goes to operators: in time to find someone.
        moved.advance(timedelta(minutes=6))
        await eventually(
            partial(escalated, http, moved.api, request_id),
            what="the visit asked for again on operators' list",
        )
        assert moved.now() < starts_at - timedelta(hours=1)
        found = await send(http, "GET", f"/v1/requests/{request_id}", street.neighbour.headers)
        assert found["status"] == "unmatched"


async def test_a_helper_who_never_checks_in_is_a_no_show_operators_see(moved: Moved) -> None:
    async with httpx.AsyncClient(base_url=moved.api.url, timeout=10) as http:
        street = await new_street(http, moved.api)
        starts_at = eleven_utc(moved.now(), 1)
        helper, booking_id = await book(http, street, starts_at)
        moved.advance(starts_at + timedelta(minutes=31) - moved.now())
        await eventually(
            partial(status_is, http, street.neighbour, booking_id, "no_show"),
            what="the visit a no-show by booking's sweep",
        )

        async def counted() -> bool:
            return bool((await standing(http, moved.api, helper)).get("no_shows") == 1)

        await eventually(counted, what="trust to count the no-show operators see")


async def test_an_escalated_request_is_offered_when_a_helper_with_hours_appears(
    moved: Moved,
) -> None:
    async with httpx.AsyncClient(base_url=moved.api.url, timeout=10) as http:
        street = await new_street(http, moved.api)
        for helper in street.helpers:  # nobody offers any hours: the request is escalated
            await send(http, "PUT", "/v1/me/availability", helper.headers, json={"rules": []})
        await eventually(
            partial(matching_caught_up, moved.api.bootstrap, AVAILABILITY),
            what="matching to file the hours",
        )
        request_id = await ask_at(http, street.neighbour, eleven_utc(moved.now(), 2))

        await eventually(
            partial(escalated, http, moved.api, request_id),
            what="the request escalated to operators",
        )

        # A minute later one helper sets their hours: the request is offered to them.
        helper = street.helpers[0]
        await send(http, "PUT", "/v1/me/availability", helper.headers, json={"rules": EVERY_DAY})
        offers = await offered(http, street, request_id)
        assert list(offers) == [helper.person_id]
        path = f"/v1/offers/{offers[helper.person_id]['offer_id']}/accept"
        assert (await send(http, "POST", path, helper.headers))["booking_id"]


async def test_an_escalated_request_is_offered_when_a_helper_is_newly_vetted(moved: Moved) -> None:
    async with httpx.AsyncClient(base_url=moved.api.url, timeout=10) as http:
        street = await new_street(http, moved.api, vet=False)
        await eventually(
            partial(matching_caught_up, moved.api.bootstrap, AVAILABILITY),
            what="matching to file the helpers",
        )
        request_id = await ask_at(http, street.neighbour, eleven_utc(moved.now(), 2))

        await eventually(
            partial(escalated, http, moved.api, request_id),
            what="the request escalated: nobody is vetted",
        )

        helper = street.helpers[1]
        await vet_helper(http, moved.api, helper)
        offers = await offered(http, street, request_id)
        assert list(offers) == [helper.person_id]
