"""The web app's ledger screens walked in Debian's Chromium after `test_ledger`'s visits:
the helper's balance, statement and earnings, a gift to the pot, the pot, spending recorded
with a receipt photo, and the neighbour confirming it; axe-core scans each screen for WCAG
2.2 AA and photographs it, as `test_web_app` does."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

from kith.demo import Person
from tests.e2e.web_browser import ARGS, CHROMIUM, Screens, person

#: The smallest PNG there is: a receipt photo the ledger keeps as it is.
RECEIPT_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def _signed_in(page: Page, who: Person) -> None:
    """Open the app signed in as ``who``, with the session their sign-up began (kept where the
    app keeps it). The sign-in screen itself is walked by test_web_app; signing in again here
    would share the sign-in rate limit of 127.0.0.1 with tests whose clock was moved days on,
    on the same database, and be refused."""
    await page.evaluate(
        "([token, personId]) => localStorage.setItem("
        "'kith.session', JSON.stringify({ token, personId }))",
        [who.token, who.person_id],
    )
    await page.reload()
    await expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()


async def _open(page: Page, link: str, heading: str) -> None:
    await page.get_by_role("link", name=link, exact=True).click()
    await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


async def walk_the_ledger_screens(
    url: str, output_dir: Path, *, helper: Person, neighbour: Person
) -> Screens:
    """The helper sees their hours and money, gives an hour, records spending; the
    neighbour confirms it. What axe found is in the answer's ``violations``."""
    screens = Screens(output_dir)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            async with person(browser, url) as page:
                await _signed_in(page, helper)
                await _helper(page, screens)
            async with person(browser, url) as page:
                await _signed_in(page, neighbour)
                await _open(page, "My hours and money", "My hours and money")
                await _open(page, "Spending on visits", "Spending on visits")
                card = page.locator(".card").filter(has_text="Milk and bread")
                await expect(card).to_contain_text("Spent for you")
                await screens.check(page, "ledger-expenses-neighbour")
                await card.get_by_role("button", name="See the receipt photo").click()
                await expect(card.get_by_role("img", name="The receipt photo")).to_be_visible()
                await card.get_by_role("button", name="Yes, it is right").click()
                await expect(page.get_by_role("status")).to_contain_text("It is confirmed")
                await expect(card).to_contain_text("Confirmed")
        finally:
            await browser.close()
    screens.mark("walked")
    (output_dir / "screens.txt").write_text(
        "".join(f"{name} {seconds:.2f}s\n" for name, seconds in screens.seconds.items())
    )
    return screens


async def _helper(page: Page, screens: Screens) -> None:
    # The three visits of the test: one paid (£15), one from the pot, one in time credits.
    await _open(page, "My hours and money", "My hours and money")
    await expect(page.get_by_text("You can receive 2 hours of help")).to_be_visible()
    earned = page.locator("dd").filter(has_text="£15.00")
    await expect(earned).to_contain_text("15 pounds")  # what a screen reader says
    await screens.check(page, "ledger")

    await _open(page, "My statement", "My statement")
    lines = page.locator(".card")
    await expect(lines).to_have_count(3)
    for mode in ("Paid by the hour", "From the pot of gifted hours", "Time credits"):
        await expect(lines.filter(has_text=mode)).to_have_count(1)
    await expect(lines.first).to_contain_text("To you: 1 hour")
    await screens.check(page, "ledger-statement")
    await page.go_back()

    await _open(page, "What I have earned, by month", "What I have earned, by month")
    await expect(page.locator(".card").first).to_contain_text("£15.00")
    await screens.check(page, "ledger-earnings")
    await page.go_back()

    await _open(page, "Give hours to my neighbourhood", "Give hours to my neighbourhood")
    await screens.check(page, "ledger-give")
    await page.get_by_label("How many hours would you like to give?").fill("1")
    await page.get_by_role("button", name="Give these hours").click()
    await expect(page.get_by_role("status")).to_contain_text("The pot now holds 2 hours")
    await page.go_back()

    await _open(page, "My neighbourhood's pot", "My neighbourhood's pot")
    await expect(page.locator("dl.card")).to_contain_text("In the pot now")
    await expect(page.locator("dl.card dd").first).to_have_text("2 hours")
    await screens.check(page, "ledger-pot")
    await page.go_back()

    await _open(page, "Spending on visits", "Spending on visits")
    await screens.check(page, "ledger-expenses")
    await _open(page, "Record what I spent", "Record what I spent")
    await page.get_by_label("How much did you spend, in pounds?").fill("4.20")
    await page.get_by_role("button", name="Record it").click()
    problem = page.get_by_role("alert")
    await expect(problem).to_contain_text("What was it for?: say what it was for")
    await expect(page.get_by_label("What was it for?")).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("What was it for?").fill("Milk and bread")
    await page.get_by_label("A photo of the receipt").set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": RECEIPT_PNG}
    )
    await screens.check(page, "ledger-record", opened=False)
    await page.get_by_role("button", name="Record it").click()
    await expect(page.get_by_role("status")).to_contain_text("Recorded: £4.20 for Milk and bread")

    # In Welsh too.
    await page.get_by_role("button", name="Cymraeg").click()
    await page.get_by_role("link", name="Kith", exact=True).click()
    await _open(page, "Fy oriau a fy arian", "Fy oriau a fy arian")
    await expect(page.get_by_text("Gallwch gael 1 awr o help")).to_be_visible()
    await screens.check(page, "ledger-cy")
