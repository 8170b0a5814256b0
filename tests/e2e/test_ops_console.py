"""The operators' console in a real headless Chromium, against the real processes `kith up`
starts: an operator signs in with a one-time code, watches a request arrive, vets an
applicant, resolves a concern and closes a welfare check, handles a visit a suspension held,
registers someone who phoned, and assigns an escalated request to a helper matching lists;
each result is checked through booking's API and its audit trail, and every console page is
scanned by axe-core for WCAG 2.2 AA and photographed into the test's output folder.

One `kith up` serves the module's tests: booking, matching, trust, the console, partners,
notify and the ledger as processes of their own, on an embedded broker and database of their
own, with the movable clock. The tests act only through Kith's public surfaces: booking's API
(the bootstrap operator token, and the operator accounts made with it), the console's pages,
and the clock, which they move on to a visit's time. Trust's verdicts (vetting approvals, the
suspension a concern brings and the reinstatement its resolution brings) come from trust
itself. Debian's Chromium is driven through playwright; no browser is downloaded.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Locator, Page, expect

from kith import seeding
from kith.client import send
from kith.demo import Person, ask_for_help, matching_knows_people, sign_up
from kith.running import RunningKith, running_kith
from services.booking.domain.operators import totp_at, totp_step
from shared import clock
from shared.observed import short_id
from tests.e2e.support import EVERY_DAY, Api, open_offers, standing, vet_helper
from tests.e2e.web_browser import CHROMIUM, WCAG_22_AA, desktop_page
from tests.integration.ops.support import somewhere
from tests.support import eventually

# Each test walks a whole story through real processes: on two cores shared with the suite's
# other workers, the first one also waits for `kith up` to start.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]

PASSWORD = "a long operator password"
#: How long the first offer of a request or the first live row may take: matching and the
#: console read what was just seeded on two cores that the suite's other workers share.
FIRST_S = 120.0
#: The operators' queues come 50 rows a page; Pat's weekly series make more than a page.
PAGE = 50
SERIES, WEEKS = 9, 6


@dataclass(frozen=True)
class Running:
    """`kith up`, booking's API client, and the broker matching reads (to wait on it)."""

    kith: RunningKith
    http: httpx.AsyncClient
    kafka: str
    clock_file: Path

    @property
    def console(self) -> str:
        return self.kith.ops

    @property
    def bootstrap(self) -> dict[str, str]:
        """The bootstrap operator's headers (an administrator, for development)."""
        return {"Authorization": f"Bearer {self.kith.operator_token}"}

    @property
    def api(self) -> Api:
        return Api(self.kith.api, self.bootstrap, self.kafka)


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    state = tmp_path_factory.mktemp("ops-console")
    async with (
        running_kith(
            bootstrap=None, database_url=None, state_dir=state, ready_timeout_s=180
        ) as kith,
        httpx.AsyncClient(base_url=kith.api, timeout=30) as http,
    ):
        # The tests read the present (one-time codes, visits' times) on Kith's clock.
        clock.install(state / "clock")
        try:
            kafka = (state / "run" / "kafka-bootstrap").read_text().strip()
            yield Running(kith, http, kafka, state / "clock")
        finally:
            clock.install(None)


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


def _new_place() -> tuple[float, float]:
    """A home somewhere in Britain no other test of the module lives near."""
    return random.uniform(51.0, 55.0), random.uniform(-3.0, 0.0)


async def _street(
    running: Running, run: str, neighbour: str, helpers: Sequence[str]
) -> tuple[Person, list[Person]]:
    """A neighbour and helpers in one street cell of a place of their own: the helpers offer
    shopping every day and an operator vetted them (trust approved them, as booking says),
    and matching knows them all."""
    http = running.http
    rng = random.Random()
    homes = seeding.homes_in_one_cell(_new_place(), len(helpers) + 1, rng)
    signed_up = []
    for name, home in zip(helpers, homes, strict=False):
        helper = await sign_up(http, name, home, ["shopping"], run)
        await send(http, "PUT", "/v1/me/availability", helper.headers, json={"rules": EVERY_DAY})
        await vet_helper(http, running.api, helper)
        signed_up.append(helper)
    asking = await sign_up(http, neighbour, homes[-1], [], run)
    await eventually(
        partial(matching_knows_people, running.kafka),
        timeout_s=FIRST_S,
        interval_s=0.2,
        what="matching to know the street's people, their hours and approvals",
    )
    return asking, signed_up


async def _accepts(running: Running, helper: Person, request_id: str) -> str:
    """``helper`` accepts matching's offer of the request; the booking's id."""
    offers = await eventually(
        partial(open_offers, running.http, [helper], request_id),
        timeout_s=FIRST_S,
        what=f"an offer to {helper.name}",
    )
    path = f"/v1/offers/{offers[helper.person_id]['offer_id']}/accept"
    return str((await send(running.http, "POST", path, helper.headers))["booking_id"])


def _move_clock_to(running: Running, when: datetime) -> None:
    """Move every Kith process's clock (and this test's) on to ``when``, as the day passing
    would."""
    ahead = when - clock.now()
    if ahead > timedelta(0):
        clock.advance(running.clock_file, ahead)


async def _world(running: Running) -> dict[str, str]:
    """An applicant, a concern and a welfare check waiting for the operator."""
    http, run = running.http, uuid.uuid4().hex[:6]
    applicant = await sign_up(http, f"Vera{run}", _new_place(), ["shopping"], run)
    neighbour, [helper] = await _street(running, run, f"Nell{run}", [f"Hal{run}"])
    asked = await ask_for_help(http, neighbour, day=1)
    due = await _accepts(running, helper, asked["request_id"])
    # The visit's time comes (the no-show sweep reports a helper only half an hour after the
    # start): Hal rings the bell, and nobody answers.
    _move_clock_to(running, datetime.fromisoformat(asked["starts_at"]) + timedelta(minutes=5))
    await send(
        http,
        "POST",
        f"/v1/bookings/{due}/no-show",
        helper.headers,
        json={"note": "Curtains drawn"},
    )
    checks = await send(http, "GET", "/v1/operator/welfare-checks", running.bootstrap)
    where = [c["neighbourhood"] for c in checks["items"] if c["booking_id"] == due]
    # A neighbour rang the office about Hal: trust suspends him until it is resolved.
    raised = await send(
        http,
        "POST",
        "/v1/operator/concerns",
        running.bootstrap,
        json={"about_id": helper.person_id, "summary": "A neighbour rang about a visit"},
    )
    return {
        "neighbourhood": where[0],
        "applicant_id": applicant.person_id,
        "concern_id": raised["concern_id"],
        "helper_id": helper.person_id,
        "welfare_id": due,
    }


async def _operator(running: Running) -> dict[str, str]:
    made = await running.http.post(
        "/v1/operator/accounts",
        headers=running.bootstrap,
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


async def _in_the_queue(page: Page, row: Locator) -> None:
    """Open pages of the requests queue until ``row`` is in it: other tests' escalations may
    fill the first page."""
    more = page.locator("#requests-more")

    async def found() -> bool:
        if await row.count():
            return True
        # In the page, in one step: the button hides itself once the last page is read.
        await more.evaluate("(button) => { if (!button.hidden) button.click(); }")
        return False

    await eventually(found, timeout_s=30, what="the request in the operators' queue")
    await expect(row).to_be_visible()


async def _signed_in(page: Page, console: str, account: dict[str, str]) -> None:
    """Sign in to the console as ``account``, with its password and current one-time code."""
    await page.goto(f"{console}/ops/login")
    await page.get_by_label("Email").fill(account["email"])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("One-time code").fill(
        totp_at(account["totp_secret"], totp_step(clock.now()))
    )
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{console}/ops")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_an_operator_runs_the_community_from_the_console(
    running: Running, output_dir: Path
) -> None:
    http, console = running.http, running.console
    world = await _world(running)
    account = await _operator(running)
    run = uuid.uuid4().hex[:6]
    # Someone in a place of their own, who will ask for help while the operator watches.
    asking = await sign_up(http, f"Nora{run}", _new_place(), [], run)
    found = await send(http, "GET", f"/v1/operator/people/{asking.person_id}", running.bootstrap)
    neighbourhood = found["neighbourhood"]
    scans = Scans(output_dir)
    async with desktop_page() as (page, errors):
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )

        # Sign in as themselves: email, password and the code their app shows now.
        await page.goto(f"{console}/ops")
        await expect(page).to_have_url(f"{console}/ops/login")
        await scans.check(page, "ops-login")
        await page.get_by_label("Email").fill(account["email"])
        await page.get_by_label("Password").fill(PASSWORD)
        code = totp_at(account["totp_secret"], totp_step(clock.now()))
        await page.get_by_label("One-time code").fill(code)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page).to_have_url(f"{console}/ops")
        await expect(page.locator("#status")).to_have_text("live", timeout=15_000)

        # The live view: Nora asks for help in the app, and the event and panels follow.
        asked = await ask_for_help(http, asking, day=1)
        request_id = asked["request_id"]
        row = page.locator(
            '#events-list tr[data-type="help.requested"]', has_text=f"req:{short_id(request_id)}"
        )
        await expect(row).to_be_visible(timeout=FIRST_S * 1000)
        await expect(row).to_contain_text("help.requested")
        waiting = page.locator(f'#waiting-list tr[data-request-id="{request_id}"]')
        await expect(waiting).to_be_visible(timeout=FIRST_S * 1000)
        await expect(waiting).to_contain_text(f"Nora{run}")
        await expect(page.locator("#fig-requests .value")).to_have_text(re.compile(r"^\d+$"))
        # The map: the request's neighbourhood is a hexagon; choosing it shows who waits
        # there (by keyboard: focus and Enter).
        hexagon = page.locator(f'#map-svg a[data-cell="{neighbourhood}"]')
        await expect(hexagon).to_have_count(1, timeout=15_000)
        await expect(hexagon).to_have_attribute("aria-label", re.compile(r"1 waiting"))
        await hexagon.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#map-picked")).to_contain_text("Showing the people waiting")
        await expect(waiting).to_be_visible()
        await scans.check(page, "ops-console")

        # Run the community: by keyboard to the page, then each action's form.
        await page.get_by_role("link", name="Run the community").click()
        await expect(page).to_have_url(f"{console}/ops/act")
        await expect(page.locator("#who")).to_contain_text("Sam Okoye")
        applicant = page.locator(f'#applicants-list tr[data-person-id="{world["applicant_id"]}"]')
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

    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    # The results, through booking's API and its audit trail.
    person = await http.get(f"/v1/operator/people/{world['helper_id']}", headers=running.bootstrap)
    assert person.status_code == 200
    concerns = await http.get(
        "/v1/operator/concerns", headers=running.bootstrap, params={"status": "resolved"}
    )
    mine = [c for c in concerns.json()["items"] if c["concern_id"] == world["concern_id"]]
    assert [(c["outcome"], c["resolved_by"]) for c in mine] == [("reinstate", "operator:Sam Okoye")]
    trail = await http.get(
        "/v1/operator/audit",
        headers=running.bootstrap,
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


async def _held_visit(running: Running) -> dict[str, Any]:
    """A visit held by its helper's suspension: Nia booked Huw, then raised a concern about
    him, so trust suspended him; booking asked for the visit again and matching offers it to
    Gwen, who shares their street."""
    http, run = running.http, uuid.uuid4().hex[:6]
    nia, (huw, gwen) = await _street(running, run, f"Nia{run}", [f"Huw{run}", f"Gwen{run}"])
    asked = await ask_for_help(http, nia, day=1)
    request_id = asked["request_id"]
    booking_id = await _accepts(running, huw, request_id)
    raised = await send(
        http,
        "POST",
        "/v1/concerns",
        nia.headers,
        json={"about_id": huw.person_id, "booking_id": booking_id, "summary": "Came late twice"},
    )

    async def offered_again() -> bool:
        offers = await open_offers(http, [gwen], request_id)
        return gwen.person_id in offers and offers[gwen.person_id]["round"] > 1

    await eventually(offered_again, timeout_s=FIRST_S, what="the held visit offered to Gwen")
    return {
        "run": run,
        "booking_id": booking_id,
        "request_id": request_id,
        "concern_id": raised["concern_id"],
        "neighbour": nia,
        "helper": huw,
    }


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_an_operator_keeps_a_flagged_visit_and_disables_an_account_by_names(
    running: Running, output_dir: Path
) -> None:
    http, console = running.http, running.console
    held = await _held_visit(running)
    run = held["run"]
    account = await _operator(running)
    leaving = await http.post(
        "/v1/operator/accounts",
        headers=running.bootstrap,
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
    async with desktop_page() as (page, errors):
        await _signed_in(page, console, account)

        # The live view names people: who waits (the held visit, asked for again at once and
        # offered to Gwen, is nobody's yet), and whom a concern is about.
        waiting = page.locator(f'#waiting-list tr[data-request-id="{held["request_id"]}"]')
        await expect(waiting).to_contain_text(f"Nia{run}", timeout=FIRST_S * 1000)
        concern = page.locator(f'#concerns-list tr[data-concern-id="{held["concern_id"]}"]')
        await expect(concern).to_contain_text(f"Huw{run}", timeout=FIRST_S * 1000)

        await page.get_by_role("link", name="Run the community").click()
        flagged = page.locator(f'#flagged-list tr[data-booking-id="{held["booking_id"]}"]')
        await expect(flagged).to_contain_text(f"Nia{run}", timeout=15_000)
        await expect(flagged).to_contain_text(f"Huw{run}")
        await expect(flagged).to_contain_text("helper suspended")
        await expect(flagged).to_contain_text("request open")
        cai = page.locator(f'#accounts-list tr[data-operator-id="{leaving_id}"]')
        await expect(cai).to_contain_text("enabled")
        await scans.check(page, "ops-act-flagged")

        # The concern was a misunderstanding: resolving it has trust reinstate Huw.
        concern = page.locator(f'#concerns-list tr[data-concern-id="{held["concern_id"]}"]')
        await concern.get_by_label("Decision").select_option("reinstate")
        await concern.get_by_label("Reason").fill("Nia and Huw agree: the bus was late")
        await concern.get_by_role("button", name="Resolve").click()
        announce = page.locator("#announce")
        await expect(announce).to_contain_text("is resolved: reinstate")

        async def reinstated() -> bool:
            return not (await standing(http, running.api, held["helper"]))["suspended"]

        await eventually(reinstated, what="trust to reinstate Huw")
        await page.reload()
        await expect(flagged).to_contain_text("request open", timeout=15_000)
        await expect(flagged).not_to_contain_text("suspended")

        # Keep the visit: both are in good standing again and the hours are free.
        await flagged.get_by_label("Decision").select_option("keep")
        await flagged.get_by_label("Reason").fill("Both reinstated; Nia asked for Huw")
        await flagged.get_by_role("button", name="Decide").click()
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

    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    neighbour: Person = held["neighbour"]
    visit = await send(http, "GET", f"/v1/bookings/{held['booking_id']}", neighbour.headers)
    assert (visit["status"], visit["held"]) == ("confirmed", False)
    accounts = (await send(http, "GET", "/v1/operator/accounts", running.bootstrap))["items"]
    assert [a["disabled_at"] is not None for a in accounts if a["operator_id"] == leaving_id] == [
        True
    ]
    trail = await http.get(
        "/v1/operator/audit",
        headers=running.bootstrap,
        params={"operator_id": account["operator_id"], "limit": 1000},
    )
    entries = trail.json()["items"]
    done = {(e["action"], e["subject_id"], e["reason"]) for e in entries}
    assert ("flagged_visit.keep", held["booking_id"], "Both reinstated; Nia asked for Huw") in done
    assert ("operator.change", leaving_id, "Left the volunteer centre") in done
    assert (
        "concern.resolve",
        held["concern_id"],
        "Nia and Huw agree: the bus was late",
    ) in done
    assert {"flagged_visits.view", "names.view"} <= {e["action"] for e in entries}


async def test_console_refuses_anyone_not_signed_in(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.console) as anonymous:
        page = await anonymous.get("/ops")
        assert page.status_code == 303
        assert page.headers["location"] == "/ops/login"
        assert (await anonymous.get("/ops/act")).status_code == 303
        assert (await anonymous.get("/ops/events")).status_code == 401
        assert (await anonymous.get("/ops/api/vetting")).status_code == 401
        assert (await anonymous.post("/ops/login", data={"token": "wrong"})).status_code == 401


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_an_operator_registers_someone_who_phoned(running: Running, output_dir: Path) -> None:
    http, console = running.http, running.console
    account = await _operator(running)
    # Their neighbourhood has a name the operator knows it by.
    cell = somewhere()[1]
    place = f"Parc {uuid.uuid4().hex[:4]}"
    named = await http.put(
        "/v1/operator/neighbourhoods",
        headers=running.bootstrap,
        json={"cells": [cell], "name": place},
    )
    assert named.status_code == 200, named.text
    phone = f"+447700{uuid.uuid4().int % 900000 + 100000}"
    scans = Scans(output_dir)
    async with desktop_page() as (page, errors):
        await _signed_in(page, console, account)
        await page.goto(f"{console}/ops/act")
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

    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    # Kept with her: the consent, and the operator who took it; on the trail, no details.
    view = await http.get(f"/v1/operator/people/{person_id[1]}", headers=running.bootstrap)
    assert view.status_code == 200, view.text
    assert view.json()["neighbourhood"] == cell
    assisted = view.json()["assisted_sign_up"]
    assert assisted["consent"]["method"] == "verbal"
    assert assisted["consent"]["recorded_by"] == "Sam Okoye"
    assert assisted["needs"] == ["shopping"]
    trail = await http.get(
        "/v1/operator/audit",
        headers=running.bootstrap,
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
    running: Running, output_dir: Path
) -> None:
    http, console = running.http, running.console
    run = uuid.uuid4().hex[:6]
    nell, [hal] = await _street(running, run, f"Nell{run}", [f"Hal{run}"])
    asked = await ask_for_help(http, nell, day=2)
    request_id = asked["request_id"]

    # Hal is offered it and declines: nobody else may take it, so operators are told.
    async def offer_to_hal(*, chosen: bool) -> dict[str, Any] | None:
        inbox = (await send(http, "GET", "/v1/offers", hal.headers))["items"]
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

    first = await eventually(
        lambda: offer_to_hal(chosen=False), timeout_s=FIRST_S, what="an offer to Hal"
    )
    await send(http, "POST", f"/v1/offers/{first['offer_id']}/decline", hal.headers)

    async def escalated() -> bool:
        mine = await send(http, "GET", f"/v1/requests/{request_id}", nell.headers)
        return bool(mine["status"] == "unmatched")

    await eventually(escalated, what="the request escalated")

    account = await _operator(running)
    scans = Scans(output_dir)
    async with desktop_page() as (page, errors):
        await _signed_in(page, console, account)
        await page.get_by_role("link", name="Run the community").click()
        waiting = page.locator(f'#requests-list tr[data-request-id="{request_id}"]')
        await _in_the_queue(page, waiting)
        await expect(waiting).to_contain_text(f"Nell{run}")

        # Find helpers, with the reason: matching's answer arrives, announced.
        await waiting.get_by_label("Why look for helpers").fill("Nell rang: still waiting")
        await waiting.get_by_role("button", name="Find helpers").click()
        announce = page.locator("#announce")
        await expect(announce).to_contain_text("Matching found 1 helper", timeout=60_000)
        candidate = waiting.locator(f'li[data-helper-id="{hal.person_id}"]')
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
            lambda: offer_to_hal(chosen=True), timeout_s=60, what="the directed offer"
        )
        await page.get_by_label("Show").select_option("open")
        offered = page.locator(f'#requests-list tr[data-request-id="{request_id}"]')
        await expect(offered).to_contain_text(f"Offered to Hal{run} by Sam Okoye: offer open")
        await scans.check(page, "ops-act-assigned")
        assert errors == [], f"the page logged errors: {errors}"

    # Hal accepts in his app as for any offer, told an operator chose him.
    accepted = await send(http, "POST", f"/v1/offers/{chosen['offer_id']}/accept", hal.headers)
    visit = await send(http, "GET", f"/v1/bookings/{accepted['booking_id']}", nell.headers)
    assert visit["status"] == "confirmed"
    assert scans.violations == {}, f"axe-core found violations: {scans.violations}"
    trail = await http.get(
        "/v1/operator/audit",
        headers=running.bootstrap,
        params={"operator_id": account["operator_id"], "subject_id": request_id},
    )
    assert [(e["action"], e["reason"]) for e in trail.json()["items"]] == [
        ("request.candidates", "Nell rang: still waiting"),
        ("request.assign", "Hal can go after all: he rang back"),
    ]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_a_long_queue_is_read_a_page_at_a_time_and_stays_open_through_a_refresh(
    running: Running,
) -> None:
    http = running.http
    run = uuid.uuid4().hex[:6]
    # Pat lives where nobody helps: each of her weekly visits is escalated to operators.
    pat = await sign_up(http, f"Pat{run}", _new_place(), [], run)
    first_day = (clock.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    asked: set[str] = set()
    for hour in range(8, 8 + SERIES):
        created = await send(
            http,
            "POST",
            "/v1/requests",
            pat.headers,
            json={
                "skill": "shopping",
                "starts_at": first_day.replace(hour=hour).isoformat(),
                "hours": 1,
                "repeat": {"every": "week", "occurrences": WEEKS},
            },
        )
        asked |= {occurrence["request_id"] for occurrence in created["occurrences"]}
    assert len(asked) == SERIES * WEEKS > PAGE

    async def all_escalated() -> bool:
        found = await send(http, "GET", "/v1/requests?limit=200", pat.headers)
        return sum(1 for r in found["items"] if r["status"] == "unmatched") == len(asked)

    await eventually(all_escalated, timeout_s=FIRST_S, what="Pat's requests escalated")

    where = await send(http, "GET", f"/v1/operator/people/{pat.person_id}", running.bootstrap)
    account = await _operator(running)
    async with desktop_page() as (page, errors):
        await _signed_in(page, running.console, account)
        await page.get_by_role("link", name="Run the community").click()
        rows = page.locator("#requests-list tr")
        more = page.locator("#requests-more")
        await expect(rows).to_have_count(PAGE, timeout=15_000)
        await expect(more).to_be_visible()

        async def shown() -> set[str]:
            ids = await rows.evaluate_all("(trs) => trs.map((tr) => tr.dataset.requestId)")
            return {str(i) for i in ids}

        # Page by page to the end of the queue, each page announced.
        while await more.is_visible():
            before = await rows.count()
            await more.click()

            async def grown(before: int = before) -> bool:
                return await rows.count() > before

            await eventually(grown, what="another page of requests")
            await expect(page.locator("#announce")).to_contain_text("more requests shown")
        assert asked <= await shown(), "every one of Pat's requests is within reach"
        scanned = await Axe().run(page, options=WCAG_22_AA)
        assert scanned.response["violations"] == []
        opened = await rows.count()
        assert opened > PAGE

        # An action refreshes the lists: as many pages are read again.
        await page.get_by_label("Cells (separated by commas)").fill(where["neighbourhood"])
        await page.get_by_label("Name", exact=True).first.fill(f"Pat's corner {run}")
        await page.get_by_role("button", name="Name", exact=True).click()
        await expect(page.locator("#announce")).to_contain_text(f"now Pat's corner {run}")
        await expect(rows).to_have_count(opened)
        assert asked <= await shown()
        assert errors == [], f"the page logged errors: {errors}"
