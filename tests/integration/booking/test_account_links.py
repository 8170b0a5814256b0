"""Email verification and password reset through booking's API, notify and a real SMTP
server: the token reaches the email and nothing else (no topic, no delivery log)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from services.notify.adapters.contacts import BookingContacts
from services.notify.bootstrap import NotifyService
from shared import clock
from shared.contracts.people import AccountLinkRequested, LinkPurpose
from shared.contracts.topics import ACCOUNTS, ALL_TOPICS
from shared.embedded.mail import DevMailServer, read_mailbox, subject
from shared.messaging.reader import read_to_end
from tests.conftest import Stack
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import TopicReader, sign_up
from tests.support import eventually

_LINK = re.compile(r"http://booking\.test/app/#/(reset|verify)\?token=([A-Za-z0-9_-]+)")
PASSWORD = "a long enough password"


@dataclass
class Sent:
    """Notify sending through booking's real internal API to a real SMTP server."""

    notify: NotifyService
    mail: DevMailServer

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in read_mailbox(self.mail.folder) if m["To"] == address]

    async def link(self, address: str, screen: str, count: int = 1) -> str:
        """The token of the ``count``-th link to ``screen`` emailed to ``address``."""

        async def arrived() -> str | None:
            found = [
                match
                for message in self.to(address)
                for match in _LINK.findall(message.get_content())
                if match[0] == screen
            ]
            return found[count - 1][1] if len(found) >= count else None

        return await eventually(arrived, what=f"link {count} to #/{screen}")


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevMailServer]:
    server = DevMailServer(tmp_path_factory.mktemp("mail"), host="127.0.0.1")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def sent(stack: Stack, booking: Booking, mail_server: DevMailServer) -> AsyncIterator[Sent]:
    contacts = BookingContacts(
        "http://booking.test",
        OPERATOR_TOKEN,
        transport=httpx.ASGITransport(app=booking.runtime.app()),
    )
    database = urlsplit(stack.database_url)
    notify = NotifyService(
        stack.settings(
            smtp_host=mail_server.host,
            smtp_port=mail_server.smtp_port,
            operator_token=OPERATOR_TOKEN,
            web_app_url="http://booking.test/app/",
            notify_poll_s=3600,
        ),
        database_url=urlunsplit(database._replace(path=f"/kith_notify_{uuid.uuid4().hex[:12]}")),
        group_id=f"test-notify-{uuid.uuid4()}",
        contacts=contacts,
    )
    await notify.start()
    try:
        await asyncio.wait_for(notify.ready(), timeout=30)
        yield Sent(notify, mail_server)
    finally:
        await notify.stop()
        await contacts.close()


async def _email_of(booking: Booking, headers: dict[str, str]) -> str:
    me = await booking.client.get("/v1/me", headers=headers)
    email: str = me.json()["email"]
    return email


async def test_a_new_account_verifies_its_email_with_the_link_it_is_sent(
    booking: Booking, sent: Sent
) -> None:
    _, headers = await sign_up(booking.client, "Vera")
    email = await _email_of(booking, headers)
    assert (await booking.client.get("/v1/me", headers=headers)).json()["email_verified"] is False

    token = await sent.link(email, "verify")
    confirmed = await booking.client.post(
        "/v1/auth/email-verification/confirm", json={"token": token}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (await booking.client.get("/v1/me", headers=headers)).json()["email_verified"] is True

    again = await booking.client.post("/v1/auth/email-verification/confirm", json={"token": token})
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {"field": "token", "reason": "this link was used already: ask for a new link"}
    ]
    more = await booking.client.post("/v1/me/email-verification", headers=headers)
    assert more.status_code == 409  # verified already


async def test_a_reset_link_sets_a_new_password_once_and_signs_out_everywhere(
    booking: Booking, sent: Sent, stack: Stack
) -> None:
    person_id, headers = await sign_up(booking.client, "Rhod")
    email = await _email_of(booking, headers)
    verify_token = await sent.link(email, "verify")

    unknown = await booking.client.post(
        "/v1/auth/password-reset", json={"email": f"nobody-{uuid.uuid4().hex}@example.org"}
    )
    asked = await booking.client.post("/v1/auth/password-reset", json={"email": email.upper()})
    assert (unknown.status_code, asked.status_code) == (202, 202)
    assert unknown.json() == asked.json(), "the answer says nothing of whether it exists"

    token = await sent.link(email, "reset")
    [reset_mail] = [m for m in sent.to(email) if "#/reset" in m.get_content()]
    assert subject(reset_mail) == "Reset your Kith password"

    changed = await booking.client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "password": "a new long password"}
    )
    assert changed.status_code == 200, changed.text
    # Every session ended: whoever knew the old password is signed out.
    assert (await booking.client.get("/v1/me", headers=headers)).status_code == 401
    old = await booking.client.post("/v1/sessions", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    new = await booking.client.post(
        "/v1/sessions", json={"email": email, "password": "a new long password"}
    )
    assert new.status_code == 200, new.text

    twice = await booking.client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "password": "yet another one!"}
    )
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["field"] == "token"
    assert "used already" in twice.json()["errors"][0]["reason"]

    # Nothing of either token on any topic, and not in notify's delivery log.
    async with TopicReader(stack.bootstrap, ACCOUNTS.name) as accounts:
        links = await accounts.wait_for(
            lambda e: (
                isinstance(e.data, AccountLinkRequested) and str(e.data.person_id) == person_id
            ),
            count=2,
            what="the verification and the reset links",
        )
    assert {e.data.purpose for e in links if isinstance(e.data, AccountLinkRequested)} == {
        LinkPurpose.VERIFY_EMAIL,
        LinkPurpose.RESET_PASSWORD,
    }
    records = await read_to_end(stack.bootstrap, [topic.name for topic in ALL_TOPICS])
    assert records
    for record in records:
        raw = (record.value or b"") + (record.key or b"")
        assert token.encode() not in raw, record.topic
        assert verify_token.encode() not in raw, record.topic
    async with sent.notify.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM deliveries WHERE person_id = $1", uuid.UUID(person_id)
        )
    assert rows
    logged = " ".join(str(dict(row)) for row in rows)
    assert token not in logged
    assert verify_token not in logged


async def test_an_expired_reset_link_is_refused_with_a_problem(
    booking: Booking, sent: Sent, tmp_path: Path
) -> None:
    _, headers = await sign_up(booking.client, "Ffion")
    email = await _email_of(booking, headers)
    await booking.client.post("/v1/auth/password-reset", json={"email": email})
    token = await sent.link(email, "reset")
    clock_file = tmp_path / "clock"
    clock.install(clock_file)
    try:
        clock.advance(clock_file, timedelta(seconds=booking.settings.password_reset_ttl_s + 60))
        late = await booking.client.post(
            "/v1/auth/password-reset/confirm",
            json={"token": token, "password": "a new long password"},
        )
        # Refused, and nothing changed: the old password still signs in.
        still = await booking.client.post(
            "/v1/sessions", json={"email": email, "password": PASSWORD}
        )
    finally:
        clock.install(None)
    assert late.status_code == 422
    problem = late.json()
    assert late.headers["content-type"].startswith("application/problem+json")
    assert problem["errors"] == [
        {"field": "token", "reason": "this link has expired: ask for a new link"}
    ]
    assert still.status_code == 200, still.text
