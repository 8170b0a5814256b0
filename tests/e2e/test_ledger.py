"""How an hour is paid for, through `kith up`'s real processes: one visit in each mode
(paid, gifted hours from a pot, time credits), each posted once by the ledger, balances read
through the ledger's API with booking's own session tokens; then the same in the web app, in
a browser (``ledger_screens``), through booking's forwarding of ``/ledger/``."""

from __future__ import annotations

import random
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from kith.client import send
from kith.demo import Person, ask_for_help, sign_up
from kith.running import running_kith
from tests.conftest import Stack
from tests.e2e.ledger_screens import walk_the_ledger_screens
from tests.e2e.web_browser import CHROMIUM
from tests.support import eventually

pytestmark = pytest.mark.e2e

_STEPS = ("identity", "references", "interview", "background_check")
_EVERY_DAY = [
    {"weekday": day, "start": "08:00", "end": "20:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


async def _approved(
    http: httpx.AsyncClient, api: str, operator: dict[str, str], who: Person
) -> bool:
    person = await send(http, "GET", f"{api}/v1/operator/people/{who.person_id}", operator)
    return "shopping" in ((person.get("standing") or {}).get("approved_skills") or {})


async def _offer(http: httpx.AsyncClient, api: str, helper: Person, request_id: str) -> str | None:
    for offer in (await send(http, "GET", f"{api}/v1/offers", helper.headers))["items"]:
        if offer["request_id"] == request_id and offer["status"] == "open":
            return str(offer["offer_id"])
    return None


async def _balance(http: httpx.AsyncClient, ledger: str, who: Person) -> dict[str, Any]:
    return await send(http, "GET", f"{ledger}/v1/me/ledger", who.headers)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_a_visit_in_each_mode_is_posted_once_and_shows_in_both_balances(
    own_stack: Stack, tmp_path: Path, output_dir: Path
) -> None:
    # A broker and database of its own: on a test worker's shared broker, matching first
    # reads every earlier test's history (see ``fresh_stack``).
    stack = own_stack
    async with (
        running_kith(
            bootstrap=stack.bootstrap,
            database_url=stack.database_url,
            state_dir=tmp_path,
            services=("booking", "matching", "trust", "ledger"),
            env={"KITH_REGULAR_HOLD_S": "30", "KITH_CHECK_IN_OPENS_BEFORE_S": str(5 * 86400)},
        ) as kith,
        httpx.AsyncClient(timeout=10, base_url=kith.api) as http,
    ):
        api, ledger = kith.api, kith.ledger
        operator = {"Authorization": f"Bearer {kith.operator_token}"}
        rng, run = random.Random(), uuid.uuid4().hex[:6]
        centre = (rng.uniform(51.0, 55.0), rng.uniform(-3.0, 0.0))
        helper = await sign_up(http, f"Ada ({run})", centre, ["shopping"], run)
        neighbour = await sign_up(http, f"Mrs Okafor ({run})", centre, [], run)
        giver = await sign_up(http, f"The Bakery ({run})", centre, [], run)
        await send(
            http, "PUT", f"{api}/v1/me/availability", helper.headers, json={"rules": _EVERY_DAY}
        )
        for step in _STEPS:
            await send(
                http,
                "POST",
                f"{api}/v1/operator/people/{helper.person_id}/vetting-steps",
                operator,
                json={"step": step},
            )
        await eventually(partial(_approved, http, api, operator, helper), what="helper vetted")
        cell = (await send(http, "GET", f"{api}/v1/me", neighbour.headers))["neighbourhood"]
        community = f"street-{run}"

        async def visit(day: int) -> str:
            request = await ask_for_help(http, neighbour, day=day)
            offer_id = await eventually(
                partial(_offer, http, api, helper, request["request_id"]), what="an offer"
            )
            booking = await send(http, "POST", f"{api}/v1/offers/{offer_id}/accept", helper.headers)
            return str(booking["booking_id"])

        bookings = [await visit(day) for day in (1, 2, 3)]

        async def settle(modes: dict[str, Any], booking_id: str, done: Any) -> dict[str, Any]:
            await send(
                http,
                "PUT",
                f"{ledger}/v1/operator/ledger/communities/{community}",
                operator,
                json={"cells": [cell], **modes},
            )
            await send(http, "POST", f"{api}/v1/bookings/{booking_id}/check-in", helper.headers)
            await send(http, "POST", f"{api}/v1/bookings/{booking_id}/check-out", helper.headers)

            async def posted() -> dict[str, Any] | None:
                balance = await _balance(http, ledger, helper)
                return balance if done(balance) else None

            return await eventually(posted, timeout_s=30, what=f"{modes['modes']} posted")

        # Paid: £15 an hour of shopping, paid by the neighbour.
        paid = await settle(
            {"modes": ["paid"], "rates": {"shopping": 1500}},
            bookings[0],
            lambda b: b["money"] and b["money"][0]["earned"] == 1500,
        )
        assert paid["hours"]["given"] == 0.0
        # Gifted: the bakery gives two hours into the street's pot; a monthly allowance of two
        # hours a person covers the visit from it.
        await send(
            http,
            "PUT",
            f"{ledger}/v1/operator/ledger/communities/{community}",
            operator,
            json={
                "cells": [cell],
                "modes": ["gifted"],
                "pot_rule": "allowance",
                "monthly_allowance_hours": 2,
            },
        )
        gift = await send(
            http,
            "POST",
            f"{ledger}/v1/me/ledger/gifts",
            giver.headers,
            json={"community_id": community, "hours": 2},
        )
        assert gift["pot"]["hours"] == 2.0
        gifted = await settle(
            {"modes": ["gifted"], "pot_rule": "allowance", "monthly_allowance_hours": 2},
            bookings[1],
            lambda b: b["hours"]["given"] == 1.0,
        )
        assert gifted["hours"]["credits"] == 1.0
        # Time credits: an hour given earns an hour.
        credits = await settle(
            {"modes": ["time_credits"]},
            bookings[2],
            lambda b: b["hours"]["given"] == 2.0,
        )
        assert credits["hours"]["credits"] == 2.0
        assert credits["money"][0]["balance"] == 1500

        neighbour_side = await _balance(http, ledger, neighbour)
        assert neighbour_side["hours"]["received"] == 1.0, "the pot paid for the gifted hour"
        assert neighbour_side["hours"]["credits"] == -1.0
        assert neighbour_side["money"][0]["balance"] == -1500
        pot = await send(http, "GET", f"{ledger}/v1/communities/{community}/pot", giver.headers)
        assert pot == {"community_id": community, "hours": 1.0, "given": 2.0, "drawn": 1.0}
        statement = await send(http, "GET", f"{ledger}/v1/me/ledger/statement", helper.headers)
        assert [(i["kind"], i["mode"]) for i in statement["items"]] == [
            ("visit", "time_credits"),
            ("visit", "gifted"),
            ("visit", "paid"),
        ], "each visit posted once"
        checked = await send(http, "GET", f"{ledger}/v1/operator/ledger/reconciliation", operator)
        mine = [d for d in checked["differences"] if d.get("booking_id") in bookings]
        assert mine == []

        # The web app: the street takes gifts of hours again, and the helper gives one.
        await send(
            http,
            "PUT",
            f"{ledger}/v1/operator/ledger/communities/{community}",
            operator,
            json={"cells": [cell], "modes": ["gifted", "time_credits"]},
        )
        screens = await walk_the_ledger_screens(
            api,
            output_dir,
            helper=helper,
            neighbour=neighbour,
        )
        assert screens.violations == {}, screens.violations
        assert len(screens.seen) == 9, screens.seen
        assert (output_dir / "ledger-phone.png").stat().st_size > 5_000
        after = await _balance(http, ledger, helper)
        assert after["hours"]["gifted_to_pots"] == 1.0, "the hour given in the app"
        assert after["money"][0]["expenses"] == 420, "the spending the neighbour confirmed"
        pot = await send(http, "GET", f"{ledger}/v1/communities/{community}/pot", giver.headers)
        assert pot["hours"] == 2.0
        signed_out = await http.delete(f"{api}/v1/sessions/current", headers=helper.headers)
        assert signed_out.status_code == 204
        refused = await http.get(f"{ledger}/v1/me/ledger", headers=helper.headers)
        assert refused.status_code == 401, "a token booking signed out works nowhere"
