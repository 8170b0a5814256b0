"""The operators' console in a real headless Chromium: sign in, watch an event arrive.

Debian's Chromium is driven through playwright; no browser is downloaded.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from shared.messaging import Publisher
from tests.conftest import Stack
from tests.integration.ops.support import (
    RunningConsole,
    help_requested,
    running_console,
    somewhere,
)

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


@pytest.fixture(scope="module")
async def console(stack: Stack) -> AsyncIterator[RunningConsole]:
    settings = stack.settings(operator_token=secrets.token_urlsafe(16))
    async with running_console(settings) as running:
        yield running


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)")
async def test_operator_signs_in_and_sees_an_event_arrive(
    stack: Stack, console: RunningConsole, output_dir: Path
) -> None:
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
            await page.goto(f"{console.url}/ops")
            await expect(page).to_have_url(f"{console.url}/ops/login")
            await page.fill("#token", console.token)
            await page.click("button[type=submit]")
            await expect(page).to_have_url(f"{console.url}/ops")
            await expect(page.locator("#status")).to_have_text("live", timeout=15_000)

            requested = help_requested(*somewhere())
            await publisher.publish(requested)
            row = page.locator(f'#events-list tr[data-event-id="{requested.event_id}"]')
            await expect(row).to_be_visible(timeout=15_000)
            await expect(row).to_contain_text("help.requested")
            await expect(row).to_contain_text(str(requested.data.request_id)[:8])
            # The panels render from their JSON: the new request waits, the figures count.
            request_id = requested.data.request_id
            waiting = page.locator(f'#waiting-list tr[data-request-id="{request_id}"]')
            await expect(waiting).to_be_visible(timeout=15_000)
            await expect(page.locator("#fig-requests .value")).to_have_text(re.compile(r"^\d+$"))
            await expect(page.locator("#fig-requests svg polyline")).to_have_count(1)
            await expect(page.locator("#fig-hours svg rect")).to_have_count(6)

            await page.screenshot(path=str(output_dir / "ops-console.png"), full_page=True)
            assert errors == [], f"the page logged errors: {errors}"
        finally:
            await browser.close()
            await publisher.stop()
    assert (output_dir / "ops-console.png").stat().st_size > 10_000


async def test_console_refuses_anyone_not_signed_in(console: RunningConsole) -> None:
    async with httpx.AsyncClient(base_url=console.url) as anonymous:
        page = await anonymous.get("/ops")
        assert page.status_code == 303
        assert page.headers["location"] == "/ops/login"
        assert (await anonymous.get("/ops/events")).status_code == 401
        assert (await anonymous.post("/ops/login", data={"token": "wrong"})).status_code == 401
