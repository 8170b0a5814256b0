"""The web app's other flows, each done in the browser and checked through the API: a
helper's away day, declining an offer, cancelling and moving a visit, a no-show, a concern,
messages, downloading and deleting an account, a forgotten password, checking an email
address and the emergency contact (whose email a welfare check sends)."""

from __future__ import annotations

import asyncio
import json
import random
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from kith import seeding
from kith.client import send
from kith.demo import MATCHING_CATCH_UP_S, Person, matching_knows_people
from shared import clock
from shared.embedded.mail import read_mailbox
from tests.e2e.support import EVERY_DAY, Api, vet_helper
from tests.e2e.web_browser import PASSWORD, Screens, person
from tests.support import eventually

NEW_PASSWORD = "a new and longer password"


@dataclass(frozen=True)
class World:
    """The running Kith the walk talks to, and where its emails land."""

    url: str
    operator: dict[str, str]
    kafka: str
    clock_file: Path
    mail: Path


@dataclass(frozen=True)
class Account:
    person: Person
    email: str


async def new_account(
    http: httpx.AsyncClient, name: str, home: tuple[float, float], skills: list[str]
) -> Account:
    """An account made through the API (the sign-up screen is walked by the other test)."""
    label = f"{name.lower()}-{uuid.uuid4().hex[:6]}"
    made, email = await seeding.sign_up(
        seeding.Api.over(http),
        home,
        skills=skills,
        label=label,
        display_name=name,
        address=f"{name}'s house",
        time_zone="UTC",
        password=PASSWORD,
        domain="example.org",
    )
    return Account(Person(name, made.person_id, made.token), email)


@asynccontextmanager
async def signed_in(browser: Browser, url: str, account: Account) -> AsyncIterator[Page]:
    """A browser of the person's own, already signed in (the app keeps its session in the
    browser's storage, as it does after the sign-in screen)."""
    async with person(browser, url) as page:
        session = {"token": account.person.token, "personId": account.person.person_id}
        await page.evaluate("s => localStorage.setItem('kith.session', JSON.stringify(s))", session)
        await page.reload()
        await expect(
            page.get_by_role("heading", name=f"Hello, {account.person.name}")
        ).to_be_visible()
        yield page


def links(mail: Path, address: str, screen: str) -> list[str]:
    """The links to ``screen`` (``verify``, ``reset``) emailed to ``address``, oldest first."""
    pattern = re.compile(rf"https?://\S+#/{screen}\?token=[A-Za-z0-9_-]+")
    found: list[str] = []
    for message in read_mailbox(mail):
        if address not in str(message["To"]):
            continue
        body = message.get_body(preferencelist=("plain",))
        found += pattern.findall(body.get_content() if body is not None else "")
    return found


async def emailed(mail: Path, address: str, screen: str, count: int = 1) -> str:
    """The newest link to ``screen`` once ``count`` have reached ``address``."""

    async def arrived() -> str | None:
        found = links(mail, address, screen)
        return found[-1] if len(found) >= count else None

    return await eventually(arrived, timeout_s=60, interval_s=0.2, what=f"{count} {screen} link(s)")


async def goto(page: Page, url: str, path: str, heading: str) -> None:
    """Open one of the app's screens by its address, as a bookmark or a link would."""
    await page.goto(f"{url}/app/#{path}")
    await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


async def get(http: httpx.AsyncClient, path: str, who: Account | dict[str, str]) -> Any:
    headers = who.person.headers if isinstance(who, Account) else who
    return await send(http, "GET", path, headers)


async def account_links_and_contact(
    world: World, http: httpx.AsyncClient, screens: Screens, page: Page, mair: Account, run: str
) -> str:
    """Mair checks her email address from the settings screen, names an emergency contact
    and changes it, turns a reminder off and downloads her data; the contact's address."""
    # A new account is sent a link by itself; Mair asks for another from her settings.
    await goto(page, world.url, "/settings", "My settings")
    prompt = page.get_by_role("region", name="Check your email address")
    await expect(prompt).to_contain_text(f"we sent a link to {mair.email}")
    await screens.check(page, "settings-unverified")
    await prompt.get_by_role("button", name="Send the link again").click()
    await expect(prompt.get_by_role("status")).to_contain_text("A new link is on its way")
    link = await emailed(world.mail, mair.email, "verify", count=2)
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Check your email address")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("Your email address is checked")
    await screens.check(page, "verify")
    assert (await get(http, "/v1/me", mair))["email_verified"] is True
    await page.get_by_role("link", name="Go to the start").click()
    await expect(page.get_by_text(f"Your email address {mair.email} is checked.")).to_be_visible()

    # The emergency contact: named, then changed.
    contact = f"sian.{run}@example.org"
    await page.get_by_role("link", name="Someone to tell if I do not answer").click()
    await expect(
        page.get_by_role("heading", name="Someone to tell if I do not answer")
    ).to_be_visible()
    await expect(page.get_by_text("You have not named anyone yet.")).to_be_visible()
    await screens.check(page, "emergency")
    await page.get_by_role("button", name="Name someone").click()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("alert")).to_contain_text("Their name: please type their name")
    await page.get_by_label("Their name").fill("Siân")
    await page.get_by_label("Their email address").fill(contact)
    await screens.check(page, "emergency-edit", opened=False)
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("Kith will tell Siân")
    assert await get(http, "/v1/me/emergency-contact", mair) == {
        "name": "Siân",
        "email": contact,
        "phone": None,
    }
    await page.get_by_role("button", name="Change who it is").click()
    await page.get_by_label("Their phone number").fill("029 2000 0123")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#emergency-contact")).to_contain_text("029 2000 0123")
    await screens.check(page, "emergency-set", opened=False)
    assert (await get(http, "/v1/me/emergency-contact", mair))["phone"] == "029 2000 0123"

    # No reminder the day before, by email.
    await goto(page, world.url, "/settings/messages", "Messages from Kith")
    await page.get_by_label("A reminder the day before").uncheck()
    await page.get_by_role("button", name="Save my choices").click()
    await expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    channels = (await get(http, "/v1/me/notifications", mair))["channels"]
    assert "email" not in channels["reminder_day_before"], channels
    assert "email" in channels.get("booking_confirmed", ["email"]), channels

    # Her data, as one file.
    await goto(page, world.url, "/settings/export", "Download what Kith knows about me")
    async with page.expect_download() as download:
        await page.get_by_role("button", name="Download my file").click()
    saved = await (await download.value).path()
    exported = json.loads(await asyncio.to_thread(Path(saved).read_text, encoding="utf-8"))
    assert mair.email in json.dumps(exported)
    assert mair.person.person_id in json.dumps(exported)
    await expect(page.get_by_text("Your file has been downloaded.")).to_be_visible()
    return contact


async def away_day(world: World, http: httpx.AsyncClient, page: Page, owen: Account) -> None:
    """Owen says he is away one day, then takes it back."""
    day = (clock.now() + timedelta(days=20)).date().isoformat()
    await goto(page, world.url, "/hours", "When I can help")
    away = page.get_by_role("group", name="I will be away")
    await away.get_by_label("First day away").fill(day)
    await away.get_by_label("Last day away").fill(day)
    await away.get_by_role("button", name="Add").click()
    await expect(page.locator(".card").filter(has_text="Away from")).to_be_visible()
    exceptions = (await get(http, "/v1/me/availability", owen))["exceptions"]
    assert exceptions == [{"kind": "away", "first_day": day, "last_day": day}], exceptions
    await (
        page.locator(".card")
        .filter(has_text="Away from")
        .get_by_role("button", name="Remove")
        .click()
    )
    await expect(page.locator(".card").filter(has_text="Away from")).to_have_count(0)
    assert (await get(http, "/v1/me/availability", owen))["exceptions"] == []


async def ask(http: httpx.AsyncClient, mair: Account, starts_at: datetime) -> str:
    created = await send(
        http,
        "POST",
        "/v1/requests",
        mair.person.headers,
        json={"skill": "shopping", "starts_at": starts_at.isoformat(), "hours": 1},
    )
    return str(created["occurrences"][0]["request_id"])


async def offered(
    http: httpx.AsyncClient, owen: Account, requests: list[str]
) -> dict[str, str] | None:
    """Owen's open offer of each request, once every one has reached him."""
    items = (await get(http, "/v1/offers?limit=50", owen))["items"]
    found = {o["request_id"]: o["offer_id"] for o in items if o["status"] == "open"}
    return found if all(r in found for r in requests) else None


async def booking(http: httpx.AsyncClient, who: Account, booking_id: str) -> dict[str, Any]:
    return dict(await get(http, f"/v1/bookings/{booking_id}", who))


async def visits(
    world: World,
    http: httpx.AsyncClient,
    screens: Screens,
    mair_page: Page,
    owen_page: Page,
    mair: Account,
    owen: Account,
) -> str:
    """Three requests reach Owen: he declines one; Mair cancels another and moves the third,
    and Owen says yes to the new time. The moved visit's id."""
    await eventually(
        partial(matching_knows_people, world.kafka),
        timeout_s=MATCHING_CATCH_UP_S,
        interval_s=0.2,
        what="matching to know Mair and Owen",
    )
    tomorrow = (clock.now() + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
    requests = [await ask(http, mair, tomorrow + timedelta(days=n)) for n in range(3)]
    await away_day(world, http, owen_page, owen)
    offers = await eventually(
        partial(offered, http, owen, requests), timeout_s=60, what="three offers"
    )
    moved_id, cancelled_id = [
        str(
            (await send(http, "POST", f"/v1/offers/{offers[r]}/accept", owen.person.headers))[
                "booking_id"
            ]
        )
        for r in requests[:2]
    ]

    # Owen says no to the third.
    await goto(owen_page, world.url, "/offers", "Offers for me")
    decline = owen_page.get_by_role("button", name="No, not this time")
    await expect(decline).to_have_count(1)
    await decline.click()
    await expect(owen_page.get_by_text("You said no to this offer.")).to_be_visible()
    declined = [
        o
        for o in (await get(http, "/v1/offers?limit=50", owen))["items"]
        if o["offer_id"] == offers[requests[2]]
    ]
    assert declined[0]["status"] == "declined", declined

    # Mair cancels the second visit.
    await goto(mair_page, world.url, f"/visit/{cancelled_id}", "Your visit")
    await mair_page.get_by_role("link", name="Cancel this visit").click()
    await expect(mair_page.get_by_role("heading", name="Cancel a visit")).to_be_visible()
    await mair_page.get_by_label("Please say why, in a few words").fill("My daughter is visiting.")
    await mair_page.get_by_role("button", name="Cancel the visit").click()
    await expect(mair_page.get_by_text("The visit is cancelled.")).to_be_visible()
    assert (await booking(http, mair, cancelled_id))["status"] == "cancelled"

    # Mair asks to move the first to 16:00; Owen says yes.
    await goto(mair_page, world.url, f"/visit/{moved_id}", "Your visit")
    await mair_page.get_by_role("link", name="Ask to change the time").click()
    await expect(mair_page.get_by_role("heading", name="Change the time")).to_be_visible()
    await mair_page.get_by_label("What time should it start?").select_option("16")
    await mair_page.get_by_role("button", name="Ask for this time").click()
    await expect(mair_page.get_by_text("Your new time has been sent.")).to_be_visible()
    proposed = (await booking(http, mair, moved_id))["proposed_reschedule"]
    assert datetime.fromisoformat(proposed["starts_at"]) == tomorrow.replace(hour=16), proposed
    await goto(owen_page, world.url, f"/visit/{moved_id}", "Your visit")
    await expect(owen_page.get_by_text("asked to move this visit")).to_be_visible()
    await screens.check(owen_page, "visit-proposal", opened=False)
    await owen_page.get_by_role("button", name="Yes, move it").click()
    await expect(owen_page.get_by_text("The visit has moved.")).to_be_visible()
    moved = await booking(http, owen, moved_id)
    assert datetime.fromisoformat(moved["starts_at"]) == tomorrow.replace(hour=16), moved
    assert moved["proposed_reschedule"] is None
    return moved_id


async def no_show(
    world: World,
    http: httpx.AsyncClient,
    screens: Screens,
    page: Page,
    owen: Account,
    booking_id: str,
    contact: str,
) -> None:
    """Five minutes after the moved visit's start Mair has not answered the door: Owen tells
    Kith, and the welfare check emails her emergency contact."""
    starts_at = datetime.fromisoformat((await booking(http, owen, booking_id))["starts_at"])
    clock.advance(world.clock_file, starts_at + timedelta(minutes=5) - clock.now())
    # The browser lives in the same moved present as Kith.
    await page.clock.set_system_time(clock.now())
    await goto(page, world.url, f"/visit/{booking_id}", "Your visit")
    await page.reload()  # the visit was open already: drawn again in the moved present
    await page.get_by_role("link", name="The other person did not come").click()
    await expect(page.get_by_role("heading", name="The other person did not come")).to_be_visible()
    await screens.check(page, "no-show")
    await page.get_by_label("Anything you want to tell us").fill("Nobody answered the door.")
    await page.get_by_role("button", name="Tell Kith").click()
    await expect(page.get_by_text("Thank you for telling us.")).to_be_visible()
    assert (await booking(http, owen, booking_id))["status"] == "no_show"

    async def told() -> bool:
        return any(contact in str(m["To"]) for m in read_mailbox(world.mail))

    await eventually(told, timeout_s=60, interval_s=0.2, what="the welfare check's email to Siân")


async def remove_contact(world: World, http: httpx.AsyncClient, page: Page, mair: Account) -> None:
    await goto(page, world.url, "/settings/emergency", "Someone to tell if I do not answer")
    await page.get_by_role("button", name="Remove this person").click()
    await page.get_by_role("button", name="Yes, remove them").click()
    await expect(page.get_by_role("status")).to_contain_text("Removed.")
    assert await get(http, "/v1/me/emergency-contact", mair) is None


async def forgotten_password(
    world: World, http: httpx.AsyncClient, screens: Screens, page: Page, owen: Account
) -> None:
    """Owen signs out, forgets his password, and sets a new one from the emailed link: every
    session of his ends (the one the API gave him at sign-up too)."""
    await page.get_by_role("link", name="Kith", exact=True).click()
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_role("link", name="Forgotten your password?").click()
    await expect(page.get_by_role("heading", name="Forgotten your password")).to_be_visible()
    await page.get_by_label("Your email address or mobile phone number").fill(owen.email)
    await screens.check(page, "forgot", opened=False)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("status")).to_contain_text(
        "If Kith has an account with this email address"
    )

    link = await emailed(world.mail, owen.email, "reset")
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await screens.check(page, "reset")
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Type the new password again").fill("a new and longer pasword")
    await page.get_by_role("button", name="Save my new password").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Type the new password again: it is not the same as the new password"
    )
    await screens.check(page, "reset-mismatch", opened=False)
    await page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save my new password").click()
    await expect(page.get_by_role("status")).to_contain_text("you have been signed out everywhere")

    # Signed out of everything: the API's session from sign-up no longer works.
    assert (await http.get("/v1/me", headers=owen.person.headers)).status_code == 401
    refused = await http.post("/v1/sessions", json={"email": owen.email, "password": PASSWORD})
    assert refused.status_code == 401
    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_label("Your email address").fill(owen.email)
    await page.get_by_label("Your password").fill(NEW_PASSWORD)
    await page.locator("form").get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=f"Hello, {owen.person.name}")).to_be_visible()


async def concern(
    world: World, http: httpx.AsyncClient, page: Page, owen: Account, booking_id: str
) -> None:
    """Mair raises a worry about Owen from their visit."""
    await goto(page, world.url, f"/visit/{booking_id}", "Your visit")
    await page.get_by_role("link", name="I am worried about something").click()
    await expect(page.get_by_role("heading", name="I am worried about something")).to_be_visible()
    await expect(page.get_by_label("Who is it about?")).to_have_value(owen.person.person_id)
    await page.get_by_label("What happened?").fill("He said he came but I was in all morning.")
    await page.get_by_role("button", name="Send to Kith").click()
    await expect(page.get_by_text("Someone from Kith will look at this soon.")).to_be_visible()
    raised = (await get(http, "/v1/operator/concerns", world.operator))["items"]
    assert any(c["about_id"] == owen.person.person_id for c in raised), raised


async def delete_account(world: World, http: httpx.AsyncClient, page: Page, mair: Account) -> None:
    await goto(page, world.url, "/settings/delete", "Delete my account")
    await page.get_by_label("Type your password to be sure").fill(PASSWORD)
    await page.get_by_role("button", name="Delete my account for good").click()
    await expect(page.get_by_role("status")).to_contain_text("Your account has been deleted")
    assert (await http.get("/v1/me", headers=mair.person.headers)).status_code == 401
    refused = await http.post("/v1/sessions", json={"email": mair.email, "password": PASSWORD})
    assert refused.status_code == 401


async def walk(world: World, browser: Browser, screens: Screens) -> None:
    """The whole walk: two people in a corner of Britain no other test uses."""
    rng = random.Random()
    run = uuid.uuid4().hex[:6]
    homes = seeding.homes_in_one_cell((rng.uniform(52.0, 53.5), rng.uniform(-2.5, -0.5)), 2, rng)
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as http:
        owen = await new_account(http, "Owen", homes[0], ["shopping"])
        mair = await new_account(http, "Mair", homes[1], [])
        await send(
            http, "PUT", "/v1/me/availability", owen.person.headers, json={"rules": EVERY_DAY}
        )
        await vet_helper(http, Api(world.url, world.operator, world.kafka), owen.person)
        async with (
            signed_in(browser, world.url, mair) as mair_page,
            signed_in(browser, world.url, owen) as owen_page,
        ):
            contact = await account_links_and_contact(world, http, screens, mair_page, mair, run)
            screens.mark("account screens")
            moved = await visits(world, http, screens, mair_page, owen_page, mair, owen)
            screens.mark("visits")
            await no_show(world, http, screens, owen_page, owen, moved, contact)
            await remove_contact(world, http, mair_page, mair)
            screens.mark("no-show")
            await forgotten_password(world, http, screens, owen_page, owen)
            screens.mark("password reset")
            await concern(world, http, mair_page, owen, moved)
            await delete_account(world, http, mair_page, mair)
            screens.mark("deleted")
