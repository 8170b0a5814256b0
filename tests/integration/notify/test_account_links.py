"""Account links (verify an email, reset a password, welcome) through notify, its database and
a real SMTP server: by email (a reset or welcome link by text to a person with a phone only),
in quiet hours too, the token asked for at the last moment and kept nowhere."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.notify.bootstrap import NotifyService
from shared.contracts import Envelope, utc_now
from shared.contracts.people import AccountLinkRequested, LinkPurpose
from shared.embedded.mail import subject
from shared.messaging import Publisher
from shared.notifications import NotificationPreferences, QuietHours
from tests.integration.notify.conftest import Contacts, Mailbox
from tests.integration.notify.support import one_each
from tests.support import eventually


def _link(person_id: uuid.UUID, purpose: LinkPurpose) -> Envelope[AccountLinkRequested]:
    return Envelope.wrap(
        AccountLinkRequested(
            link_id=uuid.uuid4(),
            person_id=person_id,
            purpose=purpose,
            expires_at=utc_now() + timedelta(hours=1),
        ),
        producer="test",
    )


async def test_a_reset_link_goes_by_email_only_in_quiet_hours_and_is_logged_without_its_token(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    # Quiet all day long, and a phone too: the link still goes at once, and only by email.
    person = contacts.add(
        "Mair",
        languages=["cy"],
        phone="+447700900555",
        preferences=NotificationPreferences(quiet_hours=QuietHours(start="00:00", end="23:59")),
    )
    event = _link(person, LinkPurpose.RESET_PASSWORD)
    token = contacts.token_for(event.data.link_id)

    await publisher.publish(event)

    await one_each(mailbox, contacts.email(person), subject_has="Ailosod eich cyfrinair")
    [sent] = mailbox.to(contacts.email(person))
    assert f"http://127.0.0.1:8000/app/#/reset?token={token}" in sent.get_content()
    assert subject(sent) == "Ailosod eich cyfrinair Kith"
    assert mailbox.texts_to("+447700900555") == []

    async def logged() -> list[Any] | None:
        # The outcome is committed just after the server took the message.
        async with notify.pool.acquire() as conn:
            rows = await conn.fetch("SELECT * FROM deliveries WHERE event_id = $1", event.event_id)
        states = sorted((row["channel"], row["status"]) for row in rows)
        return list(rows) if states == [("any", "routed"), ("email", "sent")] else None

    rows = await eventually(logged, what="the link's email logged as sent")
    assert token not in " ".join(str(dict(row)) for row in rows)


async def test_a_link_already_used_or_expired_is_not_sent(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    person = contacts.add("Siân")
    gone = _link(person, LinkPurpose.VERIFY_EMAIL)  # booking has no token for it any more
    await publisher.publish(gone)

    async def dropped() -> bool:
        async with notify.pool.acquire() as conn:
            status = await conn.fetchval(
                "SELECT status FROM deliveries WHERE event_id = $1 AND channel = 'email'",
                gone.event_id,
            )
        return bool(status == "dropped")

    await eventually(dropped, what="the link's email dropped")
    assert mailbox.to(contacts.email(person)) == []


async def test_a_phone_only_person_s_reset_and_welcome_links_go_by_text_message(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    # Signed up with a phone only: the reset link goes by text, through the provider adapter
    # over HTTP to the stand-in for the provider's API.
    person = contacts.add("Eirlys", email=False, phone="+447700900777")
    reset = _link(person, LinkPurpose.RESET_PASSWORD)
    welcome = _link(person, LinkPurpose.WELCOME)
    reset_token = contacts.token_for(reset.data.link_id)
    welcome_token = contacts.token_for(welcome.data.link_id)

    await publisher.publish(reset)
    await publisher.publish(welcome)

    async def texted() -> list[str] | None:
        texts = mailbox.texts_to("+447700900777")
        return texts if len(texts) == 2 else None

    texts = await eventually(texted, what="two text messages with links")
    [reset_text] = [t for t in texts if t.startswith("Reset your Kith password")]
    [welcome_text] = [t for t in texts if t.startswith("Welcome to Kith")]
    assert f"http://127.0.0.1:8000/app/#/reset?token={reset_token}" in reset_text
    # A welcome link chooses a first password on the same screen.
    assert f"http://127.0.0.1:8000/app/#/reset?token={welcome_token}" in welcome_text
    assert "Hello Eirlys," in welcome_text

    # An email's verification link has nothing to verify without an email: it is dropped.
    verify = _link(person, LinkPurpose.VERIFY_EMAIL)
    contacts.token_for(verify.data.link_id)
    await publisher.publish(verify)

    async def dropped() -> bool:
        async with notify.pool.acquire() as conn:
            status = await conn.fetchval(
                "SELECT status FROM deliveries WHERE event_id = $1 AND channel = 'any'",
                verify.event_id,
            )
        return bool(status == "dropped")

    await eventually(dropped, what="the verification link dropped")
    assert len(mailbox.texts_to("+447700900777")) == 2
