"""The operators' console in a real headless Chromium: an operator signs in with a one-time
code, watches an event arrive, vets an applicant, resolves a concern and closes a welfare
check, and assigns an escalated request to a helper matching lists; each result is checked
through booking's API and its audit trail, and every console page is scanned by axe-core for
WCAG 2.2 AA.

Booking and the console run in this process (over the real broker and PostgreSQL, booking
served over TCP), and matching too where a test needs it; Debian's Chromium is driven
through playwright, no browser is downloaded.
"""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, async_playwright, expect

from services.booking.domain.operators import totp_at, totp_step
from services.booking.service_layer import events
from services.matching.app import create_app, runtime_of
from services.matching.state import MatchingState
from shared.contracts import Envelope, utc_now
from shared.contracts.skills import Skill
from shared.contracts.trust import StandingChanged
from shared.geo import neighbourhood_of
from shared.messaging import Publisher
from tests.conftest import Stack
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking, running_booking
from tests.integration.booking.support import booked, future_hour, served, sign_up
from tests.integration.ops.support import (
    RunningConsole,
    help_requested,
    running_console,
    somewhere,
)
from tests.support import eventually

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BOOTSTRAP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
PASSWORD = "a long operator password"
#: Every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA that axe-core checks.
WCAG_22_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}


@dataclass
class Both:
    booking: Booking
    console: RunningConsole


@pytest.fixture(scope="module")
async def both(stack: Stack) -> AsyncIterator[Both]:
    async with running_booking(stack) as booking, served(booking.runtime.app()) as url:
        settings = stack.settings(operator_token=OPERATOR_TOKEN, booking_url=url)
        async with running_console(settings) as console:
            yield Both(booking, console)


class Scans:
    """axe-core's findings on each page, and a screenshot of it."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.axe = Axe()
        self.violations: dict[str, list[str]] = {}

    async def check(self, page: Page, name: str) -> None:
        results = await self.axe.run(page, options=WCAG_22_AA)
        found: list[dict[str, Any]] = results.response["violations"]
        if found:
            self.violations[name] = [
                f"{v['id']}: {v['help']} ({len(v['nodes'])}: {v['nodes'][0]['target']})"
                for v in found
            ]
        await page.screenshot(path=str(self.output_dir / f"{name}.png"), full_page=True)


async def _world(booking: Booking) -> dict[str, str]:
    """An applicant, a concern and a welfare check waiting for the operator."""
    client, uow = booking.client, booking.runtime.uow
    run = uuid.uuid4().hex[:6]
    applicant_id, _ = await sign_up(client, f"Vera{run}", skills=["shopping"])
    _, neighbour = await sign_up(client, f"Nell{run}")
    helper_id, helper = await sign_up(client, f"Hal{run}")
    raised = await client.post(
        "/v1/operator/concerns",
        headers=BOOTSTRAP,
        json={"about_id": helper_id, "summary": "A neighbour rang about a visit"},
    )
    assert raised.status_code == 201, raised.text
    due = await booked(client, uow, neighbour, helper_id, helper, future_hour(days=2))
    async with uow.begin() as repo:
        # Due an hour ago (moved back in the database: the API only books ahead).
        await repo.update_booking(uuid.UUID(due), starts_at=utc_now() - timedelta(hours=1))
    no_show = await client.post(
        f"/v1/bookings/{due}/no-show", headers=helper, json={"note": "Curtains drawn"}
    )
    assert no_show.status_code == 200, no_show.text
    checks = await client.get("/v1/operator/welfare-checks", headers=BOOTSTRAP)
    where = [c["neighbourhood"] for c in checks.json()["items"] if c["booking_id"] == due]
    return {
        "neighbourhood": where[0],
        "applicant_id": applicant_id,
        "concern_id": raised.json()["concern_id"],
        "helper_id": helper_id,
        "welfare_id": due,
    }


async def _operator(booking: Booking) -> dict[str, str]:
    made = await booking.client.post(
        "/v1/operator/accounts",
        headers=BOOTSTRAP,
        json={
            "email": f"sam-{uuid.uuid4().hex[:6]}@kith.example",
            "name": "Sam Okoye",
            "roles": ["coordinator", "safeguarding_lead", "administrator"],
            "password": PASSWORD,
        },
    )
    assert made.status_code == 201, made.text
    account: dict[str, str] = made.json()
    return account


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_an_operator_runs_the_community_from_the_console(
    stack: Stack, both: Both, output_dir: Path
) -> None:
    booking, console = both.booking, both.console
    world = await _world(booking)
    account = await _operator(booking)
    scans = Scans(output_dir)
    publisher = Publisher(stack.settings(), client_id="test-ops-e2e")
    await publisher.start()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda message: errors.append(message.text) if message.type == "error" else None,
            )

            # Sign in as themselves: email, password and the code their app shows now.
            await page.goto(f"{console.url}/ops")
            await expect(page).to_have_url(f"{console.url}/ops/login")
            await scans.check(page, "ops-login")
            await page.get_by_label("Email").fill(account["email"])
            await page.get_by_label("Password").fill(PASSWORD)
            code = totp_at(account["totp_secret"], totp_step(utc_now()))
            await page.get_by_label("One-time code").fill(code)
            await page.get_by_role("button", name="Sign in", exact=True).click()
            await expect(page).to_have_url(f"{console.url}/ops")
            await expect(page.locator("#status")).to_have_text("live", timeout=15_000)

            # The live view: an event arrives and the panels follow.
            requested = help_requested(*somewhere())
            await publisher.publish(requested)
            row = page.locator(f'#events-list tr[data-event-id="{requested.event_id}"]')
            await expect(row).to_be_visible(timeout=15_000)
            await expect(row).to_contain_text("help.requested")
            request_id = requested.data.request_id
            waiting = page.locator(f'#waiting-list tr[data-request-id="{request_id}"]')
            await expect(waiting).to_be_visible(timeout=15_000)
            await expect(page.locator("#fig-requests .value")).to_have_text(re.compile(r"^\d+$"))
            # The map: the request's neighbourhood is a hexagon; choosing it shows who waits
            # there (by keyboard: focus and Enter).
            hexagon = page.locator(f'#map-svg a[data-cell="{requested.data.neighbourhood}"]')
            await expect(hexagon).to_have_count(1, timeout=15_000)
            await expect(hexagon).to_have_attribute("aria-label", re.compile(r"1 waiting"))
            await hexagon.focus()
            await page.keyboard.press("Enter")
            await expect(page.locator("#map-picked")).to_contain_text("Showing the people waiting")
            await expect(waiting).to_be_visible()
            await scans.check(page, "ops-console")

            # Run the community: by keyboard to the page, then each action's form.
            await page.get_by_role("link", name="Run the community").click()
            await expect(page).to_have_url(f"{console.url}/ops/act")
            await expect(page.locator("#who")).to_contain_text("Sam Okoye")
            applicant = page.locator(
                f'#applicants-list tr[data-person-id="{world["applicant_id"]}"]'
            )
            await expect(applicant).to_be_visible(timeout=15_000)
            await expect(page.locator("#health-lists h3")).to_have_count(5)
            await scans.check(page, "ops-act")

            # Vet an applicant: identity passed, with the evidence seen.
            await applicant.get_by_label("Step").select_option("identity")
            await applicant.get_by_label("Evidence seen").fill("Passport seen at the library")
            await applicant.get_by_role("button", name="Record").click()
            announce = page.locator("#announce")
            await expect(announce).to_contain_text("identity recorded as passed")
            await expect(applicant).to_contain_text("Passport seen at the library")

            # Resolve a concern (a safeguarding lead), with the reason.
            concern = page.locator(f'#concerns-list tr[data-concern-id="{world["concern_id"]}"]')
            await concern.get_by_label("Decision").select_option("reinstate")
            await concern.get_by_label("Reason").fill("Spoke to both: a misunderstanding")
            await concern.get_by_role("button", name="Resolve").click()
            await expect(announce).to_contain_text("is resolved: reinstate")
            await expect(concern).to_have_count(0)

            # Close a welfare check with its outcome.
            welfare = page.locator(f'#welfare-list tr[data-booking-id="{world["welfare_id"]}"]')
            await welfare.get_by_label("Outcome").select_option("reached")
            await welfare.get_by_label("What happened").fill("Rang her: at her daughter's")
            await welfare.get_by_label("What happened").press("Enter")  # the keyboard submits
            await expect(announce).to_contain_text("is closed")
            await expect(welfare).to_contain_text("reached: Rang her: at her daughter's")
            # Name the welfare check's neighbourhood: the page shows the name, not the cell.
            await page.get_by_label("Cells (separated by commas)").fill(world["neighbourhood"])
            await page.get_by_label("Name", exact=True).first.fill("Heol y Coed")
            await page.get_by_role("button", name="Name", exact=True).click()
            await expect(announce).to_contain_text("1 cell is now Heol y Coed")
            await expect(welfare).to_contain_text("Heol y Coed")

            # Correct someone's details, with the reason.
            await page.get_by_label("Person's id").fill(world["applicant_id"])
            await page.locator("#correct-name").fill("Vera Lynn")
            await page.locator("#correct-reason").fill("She rang: name misspelt")
            await page.get_by_role("button", name="Correct").click()
            await expect(announce).to_contain_text("Vera Lynn's details are corrected")

            # The page's own audit trail (an administrator's) shows the action.
            closed = page.locator("#audit-list tr", has_text="welfare check.close")
            await expect(closed).to_contain_text("Sam Okoye")
            await scans.check(page, "ops-act-after")
            assert errors == [], f"the page logged errors: {errors}"
        finally:
            await browser.close()
            await publisher.stop()

    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    # The results, through booking's API and its audit trail.
    client = booking.client
    person = await client.get(f"/v1/operator/people/{world['helper_id']}", headers=BOOTSTRAP)
    assert person.status_code == 200
    concerns = await client.get(
        "/v1/operator/concerns", headers=BOOTSTRAP, params={"status": "resolved"}
    )
    mine = [c for c in concerns.json()["items"] if c["concern_id"] == world["concern_id"]]
    assert [(c["outcome"], c["resolved_by"]) for c in mine] == [("reinstate", "operator:Sam Okoye")]
    trail = await client.get(
        "/v1/operator/audit",
        headers=BOOTSTRAP,
        params={"operator_id": account["operator_id"], "limit": 1000},
    )
    done = {(e["action"], e["subject_id"]) for e in trail.json()["items"]}
    assert {
        ("operator.sign_in", account["operator_id"]),
        ("vetting.record_step", world["applicant_id"]),
        ("concern.resolve", world["concern_id"]),
        ("welfare_check.close", world["welfare_id"]),
        ("person.correct", world["applicant_id"]),
        ("neighbourhood.name", world["neighbourhood"]),
    } <= done
    viewed = {e["action"] for e in trail.json()["items"]}
    assert {
        "vetting.view",
        "concerns.view",
        "welfare_checks.view",
        "relationship_health.view",
    } <= viewed
    for name in ("ops-login", "ops-console", "ops-act", "ops-act-after"):
        assert (output_dir / f"{name}.png").stat().st_size > 10_000


async def _held_visit(booking: Booking) -> dict[str, str]:
    """A visit held by its helper's suspension (trust's word through booking's own consumer
    path), the helper since reinstated; and a concern about the helper."""
    client, uow = booking.client, booking.runtime.uow
    run = uuid.uuid4().hex[:6]
    _, neighbour = await sign_up(client, f"Nia{run}")
    helper_id, helper = await sign_up(client, f"Huw{run}")
    booking_id = await booked(client, uow, neighbour, helper_id, helper, future_hour(days=3))
    for suspended in (True, False):
        change = StandingChanged(person_id=uuid.UUID(helper_id), suspended=suspended)
        await events.apply(uow, Envelope.wrap(change, producer="trust"))
    raised = await client.post(
        "/v1/operator/concerns",
        headers=BOOTSTRAP,
        json={"about_id": helper_id, "summary": "Came late twice"},
    )
    assert raised.status_code == 201, raised.text
    visit = await client.get(f"/v1/bookings/{booking_id}", headers=neighbour)
    return {
        "run": run,
        "booking_id": booking_id,
        "request_id": visit.json()["request_id"],
        "concern_id": raised.json()["concern_id"],
        "neighbour_token": neighbour["Authorization"],
    }


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_an_operator_keeps_a_flagged_visit_and_disables_an_account_by_names(
    both: Both, output_dir: Path
) -> None:
    booking, console = both.booking, both.console
    held = await _held_visit(booking)
    run = held["run"]
    account = await _operator(booking)
    leaving = await booking.client.post(
        "/v1/operator/accounts",
        headers=BOOTSTRAP,
        json={
            "email": f"cai-{run}@kith.example",
            "name": f"Cai{run}",
            "roles": ["coordinator"],
            "password": PASSWORD,
        },
    )
    assert leaving.status_code == 201, leaving.text
    leaving_id = leaving.json()["operator_id"]
    scans = Scans(output_dir)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await _signed_in(page, console, account)

            # The live view names people: who waits (the held visit was asked for again at
            # once: no matching runs here, so it waits), and whom a concern is about.
            # The console reads the worker's whole shared broker first: on a long-lived one
            # that took more than 30 s in CI.
            waiting = page.locator(f'#waiting-list tr[data-request-id="{held["request_id"]}"]')
            await expect(waiting).to_contain_text(f"Nia{run}", timeout=120_000)
            concern = page.locator(f'#concerns-list tr[data-concern-id="{held["concern_id"]}"]')
            await expect(concern).to_contain_text(f"Huw{run}", timeout=120_000)

            await page.get_by_role("link", name="Run the community").click()
            flagged = page.locator(f'#flagged-list tr[data-booking-id="{held["booking_id"]}"]')
            await expect(flagged).to_contain_text(f"Nia{run}", timeout=15_000)
            await expect(flagged).to_contain_text(f"Huw{run}")
            await expect(flagged).to_contain_text("request open")
            cai = page.locator(f'#accounts-list tr[data-operator-id="{leaving_id}"]')
            await expect(cai).to_contain_text("enabled")
            await scans.check(page, "ops-act-flagged")

            # Keep the visit: both are in good standing again and the hours are free.
            await flagged.get_by_label("Decision").select_option("keep")
            await flagged.get_by_label("Reason").fill("Both reinstated; Nia asked for Huw")
            await flagged.get_by_role("button", name="Decide").click()
            announce = page.locator("#announce")
            await expect(announce).to_contain_text(f"with Huw{run} goes ahead")
            await expect(flagged).to_have_count(0)

            # Disable an operator's account, with the reason.
            await cai.get_by_label("Account").select_option("disabled")
            await cai.get_by_label("Reason").fill("Left the volunteer centre")
            await cai.get_by_role("button", name="Change").click()
            await expect(announce).to_contain_text(f"Cai{run}: coordinator, disabled.")
            await expect(cai).to_contain_text("disabled")
            await scans.check(page, "ops-act-decided")
            assert errors == [], f"the page logged errors: {errors}"
        finally:
            await browser.close()

    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    client = booking.client
    neighbour = {"Authorization": held["neighbour_token"]}
    visit = (await client.get(f"/v1/bookings/{held['booking_id']}", headers=neighbour)).json()
    assert (visit["status"], visit["held"]) == ("confirmed", False)
    accounts = (await client.get("/v1/operator/accounts", headers=BOOTSTRAP)).json()["items"]
    assert [a["disabled_at"] is not None for a in accounts if a["operator_id"] == leaving_id] == [
        True
    ]
    trail = await client.get(
        "/v1/operator/audit",
        headers=BOOTSTRAP,
        params={"operator_id": account["operator_id"], "limit": 1000},
    )
    entries = trail.json()["items"]
    done = {(e["action"], e["subject_id"], e["reason"]) for e in entries}
    assert ("flagged_visit.keep", held["booking_id"], "Both reinstated; Nia asked for Huw") in done
    assert ("operator.change", leaving_id, "Left the volunteer centre") in done
    assert {"flagged_visits.view", "names.view"} <= {e["action"] for e in entries}


async def test_console_refuses_anyone_not_signed_in(both: Both) -> None:
    async with httpx.AsyncClient(base_url=both.console.url) as anonymous:
        page = await anonymous.get("/ops")
        assert page.status_code == 303
        assert page.headers["location"] == "/ops/login"
        assert (await anonymous.get("/ops/act")).status_code == 303
        assert (await anonymous.get("/ops/events")).status_code == 401
        assert (await anonymous.get("/ops/api/vetting")).status_code == 401
        assert (await anonymous.post("/ops/login", data={"token": "wrong"})).status_code == 401


@asynccontextmanager
async def running_matching(stack: Stack) -> AsyncIterator[MatchingState]:
    """Matching in this process, reading from now on; its state, to wait on what it knows."""
    settings = stack.settings(
        regular_hold_s=1,
        offer_ttl_s=120,
        cascade_rounds=3,
        session_timeout_ms=1000,
        rebalance_timeout_ms=1000,
        heartbeat_interval_ms=200,
    )
    app = create_app(
        settings, app_id=f"test-ops-matching-{uuid.uuid4().hex[:8]}", from_beginning=False
    )
    try:
        await app.start()
        await asyncio.wait_for(runtime_of(app).ready.wait(), timeout=60)
        yield runtime_of(app).matcher.state
    finally:
        await app.stop()


async def _signed_in(page: Page, console: RunningConsole, account: dict[str, str]) -> None:
    """Sign in to the console as ``account``, with its password and current one-time code."""
    await page.goto(f"{console.url}/ops/login")
    await page.get_by_label("Email").fill(account["email"])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("One-time code").fill(
        totp_at(account["totp_secret"], totp_step(utc_now()))
    )
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{console.url}/ops")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_an_operator_registers_someone_who_phoned(both: Both, output_dir: Path) -> None:
    booking, console = both.booking, both.console
    account = await _operator(booking)
    # Their neighbourhood has a name the operator knows it by.
    cell = somewhere()[1]
    place = f"Parc {uuid.uuid4().hex[:4]}"
    named = await booking.client.put(
        "/v1/operator/neighbourhoods", headers=BOOTSTRAP, json={"cells": [cell], "name": place}
    )
    assert named.status_code == 200, named.text
    phone = f"+447700{uuid.uuid4().int % 900000 + 100000}"
    scans = Scans(output_dir)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await _signed_in(page, console, account)
            await page.goto(f"{console.url}/ops/act")
            form = page.locator("#register-form")
            await expect(form.get_by_label("Neighbourhood")).to_contain_text(place)

            # Mrs Okafor rang: her name, her mobile (as she says it), where she lives, what
            # she needs and offers, and her agreement, given on the phone.
            await form.get_by_label("Their name").fill("Grace Okafor")
            await form.get_by_label("Mobile phone").fill(f"{phone[:3]} {phone[3:7]} {phone[7:]}")
            await form.get_by_label("Address").fill("12 Mill Lane")
            await form.get_by_label("Neighbourhood").select_option(label=place)
            await (
                form.get_by_role("group", name="What they would like help with")
                .get_by_label("Shopping")
                .check()
            )
            await (
                form.get_by_role("group", name="What they could help with")
                .get_by_label("Company")
                .check()
            )
            await form.get_by_label("How they agreed").select_option("verbal")
            await form.get_by_label("They agreed to be registered").check()
            await form.get_by_label("Reason (for the audit trail)").fill("Rang the office to join")
            await scans.check(page, "ops-act-register")
            await form.get_by_role("button", name="Register").click()
            announce = page.locator("#announce")
            await expect(announce).to_contain_text("Grace Okafor is registered")
            await expect(announce).to_contain_text("welcome text message")
            person_id = re.search(r"id ([0-9a-f-]{36})", await announce.inner_text())
            assert person_id is not None
            assert errors == [], f"the page logged errors: {errors}"
        finally:
            await browser.close()

    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    # Kept with her: the consent, and the operator who took it; on the trail, no details.
    client = booking.client
    view = await client.get(f"/v1/operator/people/{person_id[1]}", headers=BOOTSTRAP)
    assert view.status_code == 200, view.text
    assert view.json()["neighbourhood"] == cell
    assisted = view.json()["assisted_sign_up"]
    assert assisted["consent"]["method"] == "verbal"
    assert assisted["consent"]["recorded_by"] == "Sam Okoye"
    assert assisted["needs"] == ["shopping"]
    trail = await client.get(
        "/v1/operator/audit",
        headers=BOOTSTRAP,
        params={"subject_id": person_id[1], "action": "person.assisted_sign_up"},
    )
    [entry] = trail.json()["items"]
    assert (entry["operator_id"], entry["reason"]) == (
        account["operator_id"],
        "Rang the office to join",
    )
    assert phone[1:] not in str(entry)
    assert "Mill Lane" not in str(entry)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_an_operator_assigns_an_escalated_request_to_a_helper_matching_lists(
    stack: Stack, both: Both, output_dir: Path
) -> None:
    booking, console = both.booking, both.console
    client = booking.client
    run = uuid.uuid4().hex[:6]
    # Far from the London the other booking tests fill with helpers on this broker.
    lat, lng = random.uniform(-44.0, -30.0), random.uniform(116.0, 150.0)
    home = {"lat": lat, "lng": lng, "address": "3 Quiet Lane"}
    starts_at = (utc_now() + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    async with running_matching(stack) as matching:
        helper_id, helper = await sign_up(
            client, f"Hal{run}", home={**home, "lat": lat + 0.002}, skills=["shopping"]
        )
        every_day = [
            {"weekday": day, "start": "08:00", "end": "20:00"}
            for day in (
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            )
        ]
        hours = await client.put("/v1/me/availability", headers=helper, json={"rules": every_day})
        assert hours.status_code == 200, hours.text
        # Trust's word (trust does not run here): Hal is vetted for shopping.
        await booking.publisher.publish(
            Envelope.wrap(
                StandingChanged(
                    person_id=uuid.UUID(helper_id),
                    suspended=False,
                    approved_skills={Skill.SHOPPING: starts_at + timedelta(days=365)},
                ),
                producer="trust",
            )
        )
        neighbourhood = neighbourhood_of(lat + 0.002, lng)

        async def known() -> bool:
            filed = matching.helper(neighbourhood, uuid.UUID(helper_id))
            return bool(
                filed.profile and filed.weekly and matching.standing_of(uuid.UUID(helper_id))
            )

        await eventually(known, timeout_s=30, what="matching knowing Hal")
        _, neighbour = await sign_up(client, f"Nell{run}", home=home)
        asked = await client.post(
            "/v1/requests",
            headers=neighbour,
            json={"skill": "shopping", "starts_at": starts_at.isoformat(), "hours": 1},
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["occurrences"][0]["request_id"]

        # Hal is offered it and declines: nobody else may take it, so operators are told.
        async def offer_to_hal(*, chosen: bool) -> dict[str, Any] | None:
            inbox = (await client.get("/v1/offers", headers=helper)).json()["items"]
            return next(
                (
                    o
                    for o in inbox
                    if o["request_id"] == request_id
                    and o["status"] == "open"
                    and chosen == any(r["code"] == "operator_chosen" for r in o["reasons"])
                ),
                None,
            )

        first = await eventually(lambda: offer_to_hal(chosen=False), timeout_s=30, what="an offer")
        declined = await client.post(f"/v1/offers/{first['offer_id']}/decline", headers=helper)
        assert declined.status_code == 200, declined.text

        async def escalated() -> bool:
            mine = await client.get(f"/v1/requests/{request_id}", headers=neighbour)
            return bool(mine.json()["status"] == "unmatched")

        await eventually(escalated, timeout_s=30, what="the request escalated")

        account = await _operator(booking)
        scans = Scans(output_dir)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                await _signed_in(page, console, account)
                await page.get_by_role("link", name="Run the community").click()
                waiting = page.locator(f'#requests-list tr[data-request-id="{request_id}"]')
                await expect(waiting).to_be_visible(timeout=15_000)
                await expect(waiting).to_contain_text(f"Nell{run}")

                # Find helpers, with the reason: matching's answer arrives, announced.
                await waiting.get_by_label("Why look for helpers").fill("Nell rang: still waiting")
                await waiting.get_by_role("button", name="Find helpers").click()
                announce = page.locator("#announce")
                await expect(announce).to_contain_text("Matching found 1 helper", timeout=20_000)
                candidate = waiting.locator(f'li[data-helper-id="{helper_id}"]')
                await expect(candidate).to_contain_text(f"Hal{run}")
                await expect(candidate).to_contain_text("offered it before")
                await expect(candidate).to_contain_text("km away")
                await expect(waiting).not_to_contain_text("is the neighbour")  # never listed
                await scans.check(page, "ops-act-candidates")

                # Offer it to Hal, by keyboard, with the reason.
                why = candidate.get_by_label(f"Why offer it to Hal{run}")
                await why.fill("Hal can go after all: he rang back")
                await why.press("Enter")
                await expect(announce).to_contain_text(f"offered to Hal{run}")
                # Matching's offer makes the request open again: it is shown with the others
                # being offered, with the operator's direction and the offer's state.
                chosen = await eventually(
                    lambda: offer_to_hal(chosen=True), timeout_s=30, what="the directed offer"
                )
                await page.get_by_label("Show").select_option("open")
                offered = page.locator(f'#requests-list tr[data-request-id="{request_id}"]')
                await expect(offered).to_contain_text(
                    f"Offered to Hal{run} by Sam Okoye: offer open"
                )
                await scans.check(page, "ops-act-assigned")
                assert errors == [], f"the page logged errors: {errors}"
            finally:
                await browser.close()

        # Hal accepts in his app as for any offer, told an operator chose him.
        accepted = await client.post(f"/v1/offers/{chosen['offer_id']}/accept", headers=helper)
        assert accepted.status_code == 201, accepted.text
    visit = await client.get(f"/v1/bookings/{accepted.json()['booking_id']}", headers=neighbour)
    assert visit.json()["status"] == "confirmed"
    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    trail = await client.get(
        "/v1/operator/audit",
        headers=BOOTSTRAP,
        params={"operator_id": account["operator_id"], "subject_id": request_id},
    )
    assert [(e["action"], e["reason"]) for e in trail.json()["items"]] == [
        ("request.candidates", "Nell rang: still waiting"),
        ("request.assign", "Hal can go after all: he rang back"),
    ]
