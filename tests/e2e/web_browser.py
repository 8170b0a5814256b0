"""The browser side of the web app's end-to-end tests: Debian's Chromium at a phone's size,
a person in a browser of their own, and each screen scanned by axe-core for WCAG 2.2 AA and
photographed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Geolocation, Page, ViewportSize, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
#: Chromium in a container: no sandbox, no GPU, nothing fetched from the internet.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
#: Every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA that axe-core checks.
WCAG_22_AA = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
#: Cardiff: where both people of the story live.
HOME: Geolocation = {"latitude": 51.4816, "longitude": -3.1791}
PASSWORD = "a long password"


class Screens:
    """Scans and photographs each screen once, and keeps what axe found."""

    #: Screens also photographed at a desktop's size (every one is at a phone's).
    DESKTOP = frozenset({"welcome", "home", "hours", "offers", "visit", "people", "home-cy"})

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.axe_script = Axe().axe_script
        self.violations: dict[str, list[str]] = {}
        self.seen: list[str] = []
        self.seconds: dict[str, float] = {}
        self.began = time.perf_counter()

    async def check(self, page: Page, name: str, *, opened: bool = True) -> None:
        """Scan the screen as it is now, and photograph it at a phone's and a desktop's size.
        A screen just ``opened`` has put the focus on its title, so a screen reader says it."""
        began = time.perf_counter()
        if opened:
            await expect(page.locator("h1")).to_be_focused()
        # axe-core is put in the page once: the app changes screens without loading a page.
        if not await page.evaluate("typeof window.axe !== 'undefined'"):
            await page.evaluate(self.axe_script)
        results = await page.evaluate("options => axe.run(document, options)", WCAG_22_AA)
        assert results["passes"], f"axe checked nothing on {name}"
        found: list[dict[str, Any]] = results["violations"]
        if found:
            self.violations[name] = [
                f"{v['id']}: {v['help']} ({len(v['nodes'])}: {v['nodes'][0]['target']})"
                for v in found
            ]
        self.seen.append(name)
        await page.screenshot(path=str(self.output_dir / f"{name}-phone.png"), full_page=True)
        if name in self.DESKTOP:
            size = page.viewport_size
            await page.set_viewport_size(DESKTOP)
            await page.screenshot(path=str(self.output_dir / f"{name}-desktop.png"), full_page=True)
            if size is not None:
                await page.set_viewport_size(size)
        self.seconds[name] = time.perf_counter() - began

    def mark(self, what: str) -> None:
        """Note how long the walk has taken so far (the test's output says where time goes)."""
        self.seconds[f"@{what}"] = time.perf_counter() - self.began


@asynccontextmanager
async def person(browser: Browser, url: str) -> AsyncIterator[Page]:
    """A browser of one's own (its own storage), on a phone, at home, in the app."""
    context = await browser.new_context(
        viewport=PHONE, geolocation=HOME, permissions=["geolocation"], locale="en-GB"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{url}/app/")
    try:
        yield page
    finally:
        await context.close()
    assert errors == [], f"the page threw: {errors}"


@asynccontextmanager
async def desktop_page() -> AsyncIterator[tuple[Page, list[str]]]:
    """A desktop-sized page in Debian's Chromium, and the errors its scripts throw."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            page = await browser.new_page(viewport=DESKTOP)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page, errors
        finally:
            await browser.close()
