"""Channels besides email. Text messages: someone who gave a phone and no email gets every
notice by SMS, through the provider adapter, over HTTP, to the development inbox's stand-in
for the provider. Web push: to a stand-in for the browsers' push services."""

from __future__ import annotations

import httpx

from services.notify.bootstrap import NotifyService
from shared.messaging import Publisher
from shared.notifications import NoticeChannel, NoticeKind, NotificationPreferences
from tests.integration.notify.conftest import Contacts, Mailbox, PushService
from tests.integration.notify.support import confirmed, on_the_hour
from tests.support import eventually
from tests.unit.notify_support import Browser


async def test_a_person_with_a_phone_only_is_told_by_text_message(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    helper = contacts.add("Lowri", email=False, phone="+44 7700 900111", languages=["cy"])
    neighbour = contacts.add("Mair")
    await publisher.publish(confirmed(helper, neighbour, on_the_hour(5)))

    async def texted() -> list[str] | None:
        return mailbox.texts_to("+447700900111") or None

    [text] = await eventually(texted, what="a text message to the helper")
    assert text.startswith("Mae eich ymweliad wedi'i drefnu")
    assert "Helo Lowri," in text

    # The other side has an email address: the default channel is email, not a text.
    async def emailed() -> bool:
        return bool(mailbox.to(contacts.email(neighbour)))

    await eventually(emailed, what="an email to the neighbour")
    # And the development inbox page shows the text beside the emails.
    async with httpx.AsyncClient(base_url=mailbox.server.inbox_url) as http:
        page = (await http.get("/")).text
    assert "+447700900111" in page


async def test_someone_who_chose_both_gets_an_email_and_a_text(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    both = NotificationPreferences(
        channels={NoticeKind.BOOKING_CONFIRMED: [NoticeChannel.EMAIL, NoticeChannel.SMS]}
    )
    helper = contacts.add("Osian", phone="+44 7700 900222", preferences=both)
    neighbour = contacts.add("Pat")
    await publisher.publish(confirmed(helper, neighbour, on_the_hour(5)))

    async def both_arrived() -> bool:
        return bool(mailbox.texts_to("+447700900222") and mailbox.to(contacts.email(helper)))

    await eventually(both_arrived, what="an email and a text to the helper")
    assert len(mailbox.texts_to("+447700900222")) == 1


async def test_a_subscribed_browser_gets_a_push_beside_the_email(
    notify: NotifyService,
    publisher: Publisher,
    contacts: Contacts,
    mailbox: Mailbox,
    push_service: PushService,
) -> None:
    browser = Browser("https://push.example.test/send/quinn")
    helper = contacts.add("Quinn", push=[browser.subscription])
    neighbour = contacts.add("Rhian")
    await publisher.publish(confirmed(helper, neighbour, on_the_hour(5)))

    async def pushed() -> list[httpx.Request] | None:
        return push_service.to(browser.subscription.endpoint) or None

    [request] = await eventually(pushed, what="a push to the helper's browser")
    message = browser.read(request.content)
    assert message["title"].startswith("Your visit is booked: gardening on ")
    assert "Hello Quinn," in message["body"]

    async def emailed() -> bool:
        return bool(mailbox.to(contacts.email(helper)))

    await eventually(emailed, what="the email as well")
