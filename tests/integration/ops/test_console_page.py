"""The console's page in a browser over the real broker: a busy city's waiting list says how
many it leaves out, and a neighbourhood chosen on the map lists everyone waiting there."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from services.ops.entrypoints.http.routes_live import MAP_PLACES, WAITING_SHOWN
from shared.contracts import Envelope
from shared.messaging import Publisher
from tests.conftest import Stack
from tests.e2e.web_browser import CHROMIUM, WCAG_22_AA, desktop_page
from tests.integration.ops.support import RunningConsole, help_requested, running_console, somewhere
from tests.support import eventually

#: What the page asks for: the first rows only.
SHOWN = 200
#: More people waiting in one neighbourhood than the page lists.
BUSY = SHOWN + 3

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (`make browser`)"
)


@pytest.fixture(scope="module")
async def console(stack: Stack) -> AsyncIterator[RunningConsole]:
    settings = stack.settings(operator_token=secrets.token_urlsafe(16))
    async with running_console(settings) as running:
        yield running


async def test_a_cut_list_says_so_and_a_chosen_neighbourhood_lists_everyone_there(
    stack: Stack, console: RunningConsole
) -> None:
    assert SHOWN < WAITING_SHOWN
    busy_cell, busy = somewhere()
    calm_cell, calm = somewhere()
    asked: list[Envelope[Any]] = [help_requested(busy_cell, busy) for _ in range(BUSY)]
    elsewhere = help_requested(calm_cell, calm)
    publisher = Publisher(stack.settings(), client_id="test-ops-page")
    await publisher.start()
    try:
        await publisher.publish_many([*asked, elsewhere])
    finally:
        await publisher.stop()
    bearer = {"Authorization": f"Bearer {console.token}"}
    async with httpx.AsyncClient(base_url=console.url, headers=bearer) as client:

        async def all_read() -> bool:
            console.check_running()
            here = (await client.get("/ops/waiting", params={"neighbourhood": busy})).json()
            there = (await client.get("/ops/waiting", params={"neighbourhood": calm})).json()
            return bool(here["total"] == BUSY and there["total"] == 1)

        await eventually(all_read, what="every request read by the console")

    async with desktop_page() as (page, errors):
        signed = await page.request.post(
            f"{console.url}/ops/login", form={"token": console.token}, max_redirects=0
        )
        assert signed.status == 303
        await page.goto(f"{console.url}/ops")

        more = page.locator("#waiting-more")
        rows = page.locator("#waiting-list tr")
        # Everyone: the first rows, and how many more wait, with where to find them.
        await expect(more).to_have_text(
            re.compile(rf"^Showing {SHOWN} of \d+ waiting, escalations first\. Choose a")
        )
        await expect(rows).to_have_count(SHOWN)
        scanned = await Axe().run(page, options=WCAG_22_AA)
        assert scanned.response["violations"] == []

        # The map draws the most pressed neighbourhoods, and says so when it leaves some out.
        drawn = await (await page.request.get(f"{console.url}/ops/map")).json()
        assert drawn["places"][0]["cell"] == busy, "nobody helps there, and most wait there"
        assert len(drawn["places"]) == min(drawn["total"], MAP_PLACES)
        await expect(page.locator("#map-more")).to_have_count(1)
        if drawn["total"] > MAP_PLACES:
            await expect(page.locator("#map-more")).to_contain_text(f"the {MAP_PLACES} most")
        else:
            await expect(page.locator("#map-more")).to_be_hidden()

        # The busy neighbourhood, chosen by keyboard: its own list, cut at the same length.
        hexagon = page.locator(f'#map-svg a[data-cell="{busy}"]')
        await expect(hexagon).to_have_attribute("aria-label", re.compile(rf"{BUSY} waiting"))
        await hexagon.focus()
        await page.keyboard.press("Enter")
        await expect(more).to_have_text(f"Showing {SHOWN} of {BUSY} waiting, escalations first.")
        ids = await rows.evaluate_all("(trs) => trs.map((tr) => tr.dataset.requestId)")
        assert len(ids) == SHOWN
        assert set(ids) <= {str(envelope.data.request_id) for envelope in asked}
        assert str(elsewhere.data.request_id) not in ids
        assert errors == []
