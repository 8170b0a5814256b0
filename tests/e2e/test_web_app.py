"""The web app in Debian's Chromium, against `kith up`'s real processes: a neighbour and a
helper, each in a browser of their own, walk a whole visit, and every screen they see is
scanned by axe-core for WCAG 2.2 AA and photographed at a phone's size and a desktop's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.conftest import Stack
from tests.e2e.test_whole_flow import kith_up

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
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
#: Every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA that axe-core checks.
WCAG_22_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
#: Cardiff: where both people of the story live, a street apart.
HOME = {"latitude": 51.4816, "longitude": -3.1791}


class Screens:
    """Scans and photographs each screen once, and keeps what axe found."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.axe = Axe()
        self.violations: dict[str, list[str]] = {}
        self.seen: list[str] = []

    async def check(self, page: Page, name: str, *, opened: bool = True) -> None:
        """Scan the screen as it is now, and photograph it at a phone's and a desktop's size.
        A screen just ``opened`` has put the focus on its title, so a screen reader says it."""
        if opened:
            await expect(page.locator("h1")).to_be_focused()
        results = await self.axe.run(page, options=WCAG_22_AA)
        found: list[dict[str, Any]] = results.response["violations"]
        if found:
            self.violations[name] = [
                f"{v['id']}: {v['help']} ({len(v['nodes'])}: {v['nodes'][0]['target']})"
                for v in found
            ]
        self.seen.append(name)
        size = page.viewport_size
        await page.screenshot(path=str(self.output_dir / f"{name}-phone.png"), full_page=True)
        await page.set_viewport_size(DESKTOP)
        await page.screenshot(path=str(self.output_dir / f"{name}-desktop.png"), full_page=True)
        if size is not None:
            await page.set_viewport_size(size)


@asynccontextmanager
async def person(browser: Browser, url: str) -> AsyncIterator[tuple[BrowserContext, Page]]:
    """A browser of one's own (its own storage), on a phone, at home, in the app."""
    context = await browser.new_context(
        viewport=PHONE, geolocation=HOME, permissions=["geolocation"], locale="en-GB"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{url}/app/")
    try:
        yield context, page
    finally:
        await context.close()
    assert errors == [], f"the page threw: {errors}"


async def sign_up(page: Page, screens: Screens, name: str, role: str) -> str:
    """Make an account through the sign-up screen; the email it was made with."""
    await page.get_by_role("link", name="Make an account").click()
    await expect(page.get_by_role("heading", name="Make an account")).to_be_visible()
    email = f"{name.lower()}.{uuid.uuid4().hex[:8]}@example.org"
    await page.get_by_label("Your name, as others will see it").fill(name)
    await page.get_by_label("Your email address").fill(email)
    await page.get_by_label("Choose a password").fill("a long password")
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


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_a_neighbour_and_a_helper_walk_a_whole_visit_in_the_web_app(
    stack: Stack, tmp_path: Path, output_dir: Path
) -> None:
    screens = Screens(output_dir)
    async with (
        kith_up(stack, tmp_path / "kith") as (url, _operator_token),
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=_ARGS
        )
        try:
            async with person(browser, url) as (_, neighbour):
                await screens.check(neighbour, "welcome")
                email = await sign_up(neighbour, screens, "Mair", "Ask for help")
                await expect(neighbour.get_by_role("heading", name="Hello, Mair")).to_be_visible()
                await screens.check(neighbour, "home")

                # Signing out ends the session; signing in again opens it.
                await neighbour.get_by_role("button", name="Sign out").click()
                welcome = neighbour.get_by_role("heading", name="Welcome to Kith")
                await expect(welcome).to_be_visible()
                await neighbour.get_by_role("link", name="Sign in").click()
                await neighbour.get_by_label("Your email address").fill(email)
                await neighbour.get_by_label("Your password").fill("a long password")
                await screens.check(neighbour, "sign-in", opened=False)
                await neighbour.get_by_role("button", name="Sign in").click()
                await expect(neighbour.get_by_role("heading", name="Hello, Mair")).to_be_visible()
        finally:
            await browser.close()

    assert screens.violations == {}, screens.violations
    assert {"welcome", "home", "sign-in"} <= set(screens.seen)
    assert (output_dir / "home-phone.png").stat().st_size > 5_000
