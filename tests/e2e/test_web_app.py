"""The web app in Debian's Chromium, against `kith up`'s real processes: a neighbour and a
helper, each in a browser of their own, walk a whole visit, and every screen they see is
scanned by axe-core for WCAG 2.2 AA and photographed at a phone's size and a desktop's. A
second pair, on the same `kith up`, does every other flow and each is checked through the API
(tests/e2e/web_account_walk.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from kith.client import send
from kith.demo import MATCHING_CATCH_UP_S, Person, matching_knows_people
from shared import clock
from tests.conftest import Stack
from tests.e2e import web_account_walk
from tests.e2e.support import Api, kith_up, vet_helper
from tests.e2e.web_browser import ARGS, CHROMIUM, PASSWORD, Screens, person
from tests.support import eventually

pytestmark = pytest.mark.e2e


async def sign_up(page: Page, screens: Screens, name: str, role: str) -> str:
    """Make an account through the sign-up screen; the email it was made with."""
    await page.get_by_role("link", name="Make an account").click()
    await expect(page.get_by_role("heading", name="Make an account")).to_be_visible()
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.org"
    await page.get_by_label("Your name, as others will see it").fill(name)
    await page.get_by_label("Your email address").fill(email)
    await page.get_by_label("Choose a password").fill(PASSWORD)
    await page.get_by_label(role, exact=True).check()
    if role != "Ask for help":
        await page.get_by_label("Shopping").check()
        await page.get_by_label("Company").check()
    await page.get_by_label("Your address").fill(f"{name}'s house, 3 Heol y Coed, Cardiff")
    await page.get_by_role("button", name="Find where I am").click()
    await expect(page.get_by_text("Found: 51.48160, -3.17910")).to_be_visible()
    await screens.check(page, f"sign-up-{name.lower()}", opened=False)
    await page.get_by_role("button", name="Make my account").click()
    return email


async def vet(url: str, operator_token: str, kafka: str, email: str) -> None:
    """An operator vets the helper who signed up with ``email`` (as operators do, through
    the API), and the test waits until trust approved them and matching knows them."""
    api = Api(url, {"Authorization": f"Bearer {operator_token}"}, kafka)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        signed_in = await send(
            http, "POST", "/v1/sessions", {}, json={"email": email, "password": PASSWORD}
        )
        owen = Person("Owen", signed_in["person_id"], signed_in["token"])
        await vet_helper(http, api, owen)
    await eventually(
        partial(matching_knows_people, kafka),
        timeout_s=MATCHING_CATCH_UP_S,
        interval_s=0.2,
        what="matching to know the people, their hours and approvals",
    )


async def open_from_home(page: Page, link: str, heading: str) -> None:
    """Go back to the first screen and open one task from it, as a person would."""
    await page.get_by_role("link", name="Kith", exact=True).click()
    await page.get_by_role("link", name=link, exact=True).click()
    await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


@dataclass(frozen=True)
class Running:
    """`kith up` (with notify, whose emails land in the development mail folder) and Chromium,
    shared by this module's tests: each starts its own people in its own browsers."""

    url: str
    operator_token: str
    kafka: str
    clock_file: Path
    mail: Path
    browser: Browser


@pytest.fixture(scope="module")
async def running(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    state = tmp_path_factory.mktemp("web-app")
    clock_file = state / "clock"
    # Notify looks for due emails every second: the walk waits on a link in an email.
    env = {"KITH_CLOCK_FILE": str(clock_file), "KITH_NOTIFY_POLL_S": "1"}
    async with (
        kith_up(stack, state / "kith", services=_SERVICES, env=env) as (url, operator_token),
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield Running(
                url, operator_token, stack.bootstrap, clock_file, state / "kith" / "mail", browser
            )
        finally:
            clock.install(None)
            await browser.close()


_SERVICES = "booking,matching,trust,notify"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
# About 100 s on a quiet machine (with `kith up`, shared with the next test); the default
# 300 s is too close when every core is taken.
@pytest.mark.timeout(480)
async def test_a_neighbour_and_a_helper_walk_a_whole_visit_in_the_web_app(
    running: Running, output_dir: Path
) -> None:
    screens = Screens(output_dir)
    browser, url = running.browser, running.url
    try:
        async with person(browser, url) as neighbour, person(browser, url) as helper:
            await _walk(
                url,
                running.operator_token,
                running.kafka,
                running.clock_file,
                screens,
                neighbour,
                helper,
            )
    finally:
        clock.install(None)

    (output_dir / "screens.txt").write_text(
        "".join(f"{name} {seconds:.2f}s\n" for name, seconds in screens.seconds.items())
    )
    assert screens.violations == {}, screens.violations
    expected = {"welcome", "sign-up-mair", "home", "sign-in", "hours", "ask", "offers", "visit"}
    assert expected <= set(screens.seen), screens.seen
    assert len(screens.seen) >= 20
    assert (output_dir / "home-phone.png").stat().st_size > 5_000
    assert (output_dir / "offers-desktop.png").stat().st_size > 5_000


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
@pytest.mark.timeout(300)
async def test_every_other_flow_is_done_in_the_web_app_and_seen_through_the_api(
    running: Running, output_dir: Path
) -> None:
    """Away days, declining, cancelling, moving a visit, a no-show, a concern, messages, my
    data, deleting my account, a forgotten password, checking my email, my emergency contact:
    each done in the browser, each checked through the API, each new screen scanned."""
    screens = Screens(output_dir)
    world = web_account_walk.World(
        running.url,
        {"Authorization": f"Bearer {running.operator_token}"},
        running.kafka,
        running.clock_file,
        running.mail,
    )
    clock.install(running.clock_file)  # the walk reads the moved present too
    try:
        await web_account_walk.walk(world, running.browser, screens)
    finally:
        clock.install(None)

    (output_dir / "screens.txt").write_text(
        "".join(f"{name} {seconds:.2f}s\n" for name, seconds in screens.seconds.items())
    )
    assert screens.violations == {}, screens.violations
    new = {"settings-unverified", "verify", "emergency", "emergency-set", "forgot", "reset"}
    assert new <= set(screens.seen), screens.seen


async def _walk(
    url: str,
    operator_token: str,
    kafka: str,
    clock_file: Path,
    screens: Screens,
    neighbour: Page,
    helper: Page,
) -> None:
    # Mair asks for help; Owen offers it. Each makes an account in their own browser.
    await screens.check(neighbour, "welcome")
    mair = await sign_up(neighbour, screens, "Mair", "Ask for help")
    await expect(neighbour.get_by_role("heading", name="Hello, Mair")).to_be_visible()
    await screens.check(neighbour, "home")
    owen = await sign_up(helper, screens, "Owen", "Offer help to others")

    # A new helper is taken to their hours: every day from 08:00 to 20:00.
    await expect(helper.get_by_role("heading", name="When I can help")).to_be_visible()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        await helper.get_by_label(f"Free on {day}").check()
        group = helper.get_by_role("group", name=day, exact=True)
        await group.get_by_label("From").select_option("8")
        await group.get_by_label("Until").select_option("20")
    await helper.get_by_role("button", name="Save my hours").click()
    await expect(helper.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    # The week ahead, in Owen's own time zone, from what Kith holds. Today's hours start at
    # the next whole hour once 08:00 has passed; tomorrow's are whole.
    await expect(helper.locator("#week li").nth(1)).to_contain_text("08:00 to 20:00")
    await screens.check(helper, "hours", opened=False)

    screens.mark("signed up and hours set")
    await vet(url, operator_token, kafka, owen)
    screens.mark("vetted")
    await open_from_home(helper, "Offers for me", "Offers for me")
    await expect(helper.get_by_text("There are no offers for you just now")).to_be_visible()
    await screens.check(helper, "offers-empty")

    # Signing out ends the session; signing in again opens it.
    await neighbour.get_by_role("button", name="Sign out").click()
    await expect(neighbour.get_by_role("heading", name="Welcome to Kith")).to_be_visible()
    await neighbour.get_by_role("link", name="Sign in").click()
    await neighbour.get_by_label("Your email address").fill(mair)
    await neighbour.get_by_label("Your password").fill(PASSWORD)
    await screens.check(neighbour, "sign-in", opened=False)
    await neighbour.get_by_role("button", name="Sign in").click()
    await expect(neighbour.get_by_role("heading", name="Hello, Mair")).to_be_visible()

    # Mair asks for an hour's shopping tomorrow at 11:00, every week, three times.
    await neighbour.get_by_role("link", name="Ask for help").click()
    await expect(neighbour.get_by_role("heading", name="Ask for help")).to_be_visible()
    await neighbour.get_by_label("Shopping").check()
    await neighbour.get_by_label("What time should it start?").select_option("11")
    await neighbour.get_by_label("Every week").check()
    await neighbour.get_by_label("How many times?").fill("3")
    await neighbour.get_by_label("Anything the helper should know").fill("Milk and bread.")
    await screens.check(neighbour, "ask", opened=False)
    await neighbour.get_by_role("button", name="Send my request").click()
    await expect(neighbour.get_by_text("Your request has been sent")).to_be_visible()
    await neighbour.get_by_role("link", name="What I have asked for").click()
    await expect(neighbour.locator(".card").first).to_contain_text("Shopping")
    await screens.check(neighbour, "requests")

    # The offer reaches Owen's open inbox without a reload, saying why it came to him.
    offer = helper.locator(".offer").first
    await expect(offer).to_contain_text("For Mair", timeout=60_000)
    await expect(offer).to_contain_text("km away")
    await expect(offer).to_contain_text("This is every week.")
    await screens.check(helper, "offers", opened=False)
    screens.mark("offer arrived")
    await offer.get_by_role("button", name="Yes, I will go every time").click()
    await expect(helper.get_by_text("You are now their regular helper: 3 visit(s)")).to_be_visible()

    # Owen's visits: the first is tomorrow; its address shows shortly before it.
    await open_from_home(helper, "My visits", "My visits")
    await screens.check(helper, "visits")
    await helper.locator("#upcoming").get_by_role("link", name="Open this visit").first.click()
    await expect(helper.get_by_role("heading", name="Your visit")).to_be_visible()
    await expect(helper.locator("#visit-status")).to_have_text("Booked")
    visit_url = helper.url
    booking_id = visit_url.rsplit("/", 1)[-1]

    # The day passes: the shared clock moves on to ten minutes before the visit.
    clock.install(clock_file)
    starts_at = await _starts_at(url, owen, booking_id)
    clock.advance(clock_file, starts_at - timedelta(minutes=10) - clock.now())
    await helper.reload()
    await expect(helper.locator("#visit-address")).to_contain_text("Mair's house")
    await expect(helper.get_by_text("Milk and bread.")).to_be_visible()
    await screens.check(helper, "visit")
    await helper.get_by_role("button", name="I have arrived").click()
    await expect(helper.locator("#visit-status")).to_have_text("Happening now")
    clock.advance(clock_file, timedelta(hours=1, minutes=10))
    await helper.get_by_role("button", name="The visit is over").click()
    await expect(helper.locator("#visit-status")).to_have_text("Done")

    # Each says privately whether they would like to see each other again.
    for page, name in ((helper, "owen"), (neighbour, "mair")):
        if page is neighbour:
            await open_from_home(neighbour, "My visits", "My visits")
            past = neighbour.locator("#past")
            await past.get_by_role("link", name="Open this visit").first.click()
            await expect(neighbour.locator("#visit-status")).to_have_text("Done")
        await page.get_by_role("link", name="Tell us how it went").click()
        await expect(page.get_by_role("heading", name="How did it go?")).to_be_visible()
        await (
            page.get_by_role("group", name="Would you like to see each other again?")
            .get_by_label("Yes")
            .check()
        )
        await screens.check(page, f"after-{name}")
        await page.get_by_role("button", name="Send my answers").click()
        await expect(page.get_by_text("Your answers have been kept")).to_be_visible()

    screens.mark("visit done")
    # "People I know": Owen, once trust has recorded the pair and booking has heard.
    mair_headers = await _signed_in(url, mair)
    await eventually(
        partial(_knows, url, mair_headers, "Owen"),
        timeout_s=90,
        interval_s=0.5,
        what="trust's record of Mair and Owen in booking",
    )
    await open_from_home(neighbour, "People I know", "People I know")
    card = neighbour.locator(".card").filter(has_text="Owen")
    await expect(card).to_contain_text("Met once")
    await screens.check(neighbour, "people")
    await card.get_by_role("link", name="Ask Owen for help again").click()
    await expect(neighbour.get_by_role("heading", name="Ask Owen first")).to_be_visible()
    await screens.check(neighbour, "ask-again")

    screens.mark("relationship shown")
    # The other screens, each scanned: a visit's tasks, a concern, settings, in Welsh too.
    await open_from_home(neighbour, "My visits", "My visits")
    upcoming = neighbour.locator("#upcoming")
    await upcoming.get_by_role("link", name="Open this visit").first.click()
    await expect(neighbour.locator("#visit-status")).to_have_text("Booked")
    for link, heading, name in (
        ("Ask to change the time", "Change the time", "reschedule"),
        ("Cancel this visit", "Cancel a visit", "cancel-visit"),
        ("I am worried about something", "I am worried about something", "concern"),
    ):
        await neighbour.get_by_role("link", name=link).click()
        await expect(neighbour.get_by_role("heading", name=heading)).to_be_visible()
        await screens.check(neighbour, name)
        await neighbour.go_back()
    await open_from_home(neighbour, "My settings", "My settings")
    await screens.check(neighbour, "settings")
    for link, heading, name in (
        ("Messages from Kith", "Messages from Kith", "messages"),
        ("Download what Kith knows about me", "Download what Kith knows about me", "export"),
        ("Delete my account", "Delete my account", "delete"),
    ):
        await neighbour.get_by_role("link", name=link).click()
        await expect(neighbour.get_by_role("heading", name=heading)).to_be_visible()
        await screens.check(neighbour, name)
        await neighbour.go_back()
    await neighbour.get_by_role("button", name="Cymraeg").click()
    await neighbour.get_by_role("link", name="Kith", exact=True).click()
    await expect(neighbour.get_by_role("heading", name="Helo, Mair")).to_be_visible()
    await expect(neighbour.locator("html")).to_have_attribute("lang", "cy")
    await screens.check(neighbour, "home-cy")


async def _signed_in(url: str, email: str) -> dict[str, str]:
    """A session of the test's own for reading what the app shows, through the API."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        signed_in = await send(
            http, "POST", "/v1/sessions", {}, json={"email": email, "password": PASSWORD}
        )
    return {"Authorization": f"Bearer {signed_in['token']}"}


async def _knows(url: str, headers: dict[str, str], name: str) -> bool:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        known = await send(http, "GET", "/v1/me/relationships", headers)
    return any(item["display_name"] == name for item in known["items"])


async def _starts_at(url: str, email: str, booking_id: str) -> datetime:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        signed_in = await send(
            http, "POST", "/v1/sessions", {}, json={"email": email, "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {signed_in['token']}"}
        booking = await send(http, "GET", f"/v1/bookings/{booking_id}", headers)
    return datetime.fromisoformat(booking["starts_at"])
