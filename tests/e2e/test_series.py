"""A weekly series taken on as one commitment, through `kith up`'s real processes, broker and
database, over ten weeks of moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from kith.client import send
from kith.demo import Person
from shared import clock
from tests.conftest import Stack
from tests.e2e.support import Api, kith_up, new_street, open_offers
from tests.support import eventually

pytestmark = pytest.mark.e2e


async def _series(
    http: httpx.AsyncClient, neighbour: Person, series_id: str
) -> list[dict[str, Any]]:
    """Every occurrence of the series made so far, in order."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        path = f"/v1/requests?limit=200{f'&cursor={cursor}' if cursor else ''}"
        page = await send(http, "GET", path, neighbour.headers)
        items += [item for item in page["items"] if item["series_id"] == series_id]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return sorted(items, key=lambda item: item["occurrence"])


async def test_a_whole_weekly_series_taken_on_is_booked_with_the_same_helper_ten_weeks_on(
    own_stack: Stack, tmp_path: Path
) -> None:
    # A broker and database of its own: its processes run ten weeks ahead, and their sweeps
    # would close other tests' visits in a shared database.
    clock_file = tmp_path / "clock"
    env = {"KITH_CLOCK_FILE": str(clock_file), "KITH_SESSION_MAX_AGE_DAYS": "365"}
    async with kith_up(own_stack, tmp_path / "kith", env=env) as (url, token):
        api = Api(url, {"Authorization": f"Bearer {token}"}, own_stack.bootstrap)
        async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
            street = await new_street(http, api)
            # Tomorrow at 11:00 UTC (inside the helpers' hours), every week until cancelled.
            start = (datetime.now(UTC) + timedelta(days=1)).replace(
                hour=11, minute=0, second=0, microsecond=0
            )
            asked = await send(
                http,
                "POST",
                "/v1/requests",
                street.neighbour.headers,
                json={
                    "skill": "shopping",
                    "starts_at": start.isoformat(),
                    "hours": 1,
                    "repeat": {"every": "week"},
                },
            )
            series_id = asked["series_id"]
            opening = asked["occurrences"][0]["request_id"]
            offers = await eventually(
                partial(open_offers, http, street.helpers, opening),
                timeout_s=60,
                what="an offer of the series' first week",
            )
            helper = next(h for h in street.helpers if h.person_id in offers)
            accepted = await send(
                http,
                "POST",
                f"/v1/offers/{offers[helper.person_id]['offer_id']}/accept",
                helper.headers,
                json={"scope": "series"},
            )
            assert accepted["series"]["regular_helper_id"] == helper.person_id
            made = await _series(http, street.neighbour, series_id)
            assert {item["status"] for item in made} == {"booked"}

            # Ten weeks pass. Each week the helper makes the visit at its time (checks in and
            # out), and the week six weeks on comes into range and is booked with them.
            clock.install(clock_file)  # this process reads the moved present too
            try:
                for week in range(1, 11):
                    visit = await eventually(
                        partial(_booked_week, http, street.neighbour, helper, series_id, week),
                        timeout_s=30,
                        what=f"week {week} booked with the helper",
                    )
                    starts_at = datetime.fromisoformat(visit["starts_at"])
                    clock.advance(clock_file, starts_at + timedelta(minutes=5) - clock.now())
                    path = f"/v1/bookings/{visit['booking_id']}"
                    await send(http, "POST", f"{path}/check-in", helper.headers)
                    clock.advance(clock_file, timedelta(hours=1))
                    await send(http, "POST", f"{path}/check-out", helper.headers)
                # Ten weeks on from the day the series was asked for.
                clock.advance(clock_file, start + timedelta(weeks=10) - clock.now())
                later = await eventually(
                    partial(_booked_week, http, street.neighbour, helper, series_id, 16),
                    timeout_s=30,
                    what="the series still rolling, six weeks ahead, with the same helper",
                )
            finally:
                clock.install(None)

            occurrences = await _series(http, street.neighbour, series_id)
            weeks_9_10 = [item for item in occurrences if item["occurrence"] in {9, 10}]
            assert [item["status"] for item in weeks_9_10] == ["booked", "booked"]
            bookings = (await send(http, "GET", "/v1/bookings?limit=200", helper.headers))["items"]
            by_request = {b["request_id"]: b for b in bookings}
            for item in weeks_9_10:
                booking = by_request[item["request_id"]]
                assert booking["helper"]["person_id"] == helper.person_id
                assert booking["status"] == "completed"
            # Every week made so far is the same helper's: made, or booked ahead.
            assert all(item["request_id"] in by_request for item in occurrences)
            assert later["status"] == "confirmed"


async def _booked_week(
    http: httpx.AsyncClient, neighbour: Person, helper: Person, series_id: str, week: int
) -> dict[str, Any] | None:
    """The helper's booking of the series' occurrence ``week``, once made and booked."""
    occurrences = {o["occurrence"]: o for o in await _series(http, neighbour, series_id)}
    occurrence = occurrences.get(week)
    if occurrence is None or occurrence["status"] != "booked":
        return None
    bookings = (await send(http, "GET", "/v1/bookings?limit=200", helper.headers))["items"]
    return next((b for b in bookings if b["request_id"] == occurrence["request_id"]), None)
