"""A person's notification preferences, as notify applies them when it sends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from services.notify.bootstrap import NotifyService
from shared import clock
from shared.contracts import Envelope
from shared.contracts.bookings import BookingCancelled, Side
from shared.embedded.mail import subject
from shared.messaging import Publisher
from shared.notifications import NoticeKind, NotificationPreferences, QuietHours
from tests.integration.notify.conftest import Contacts, Mailbox
from tests.integration.notify.support import confirmed, on_the_hour, one_each
from tests.support import eventually


async def _statuses(notify: NotifyService, event_id: object) -> dict[object, str]:
    async with notify.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT person_id, status FROM deliveries WHERE event_id = $1", event_id
        )
    return {row["person_id"]: row["status"] for row in rows}


async def test_a_kind_turned_off_is_not_sent_but_a_cancellation_always_is(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    off = NotificationPreferences(channels={NoticeKind.BOOKING_CONFIRMED: []})
    helper, neighbour = contacts.add("Lyn"), contacts.add("Mair", preferences=off)
    booking = confirmed(helper, neighbour, on_the_hour(4))
    cancelled = BookingCancelled(
        **booking.data.model_dump(exclude={"offer_id", "referred_by"}),
        cancelled_by=Side.HELPER,
        late=False,
    )
    await publisher.publish_many([booking, Envelope.wrap(cancelled, producer="test")])

    await one_each(mailbox, contacts.email(neighbour), subject_has="is cancelled")
    await one_each(mailbox, contacts.email(helper), subject_has="Your visit is booked")

    async def dropped() -> bool:
        return (await _statuses(notify, booking.event_id)).get(neighbour) == "dropped"

    await eventually(dropped, what="the neighbour's confirmation dropped")
    assert [subject(m) for m in mailbox.to(contacts.email(neighbour))] == [
        subject(mailbox.to(contacts.email(neighbour))[0])
    ]
    assert "cancelled" in subject(mailbox.to(contacts.email(neighbour))[0])


async def test_a_notice_in_quiet_hours_waits_for_their_end_in_the_chosen_language(
    notify: NotifyService,
    publisher: Publisher,
    contacts: Contacts,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "clock"
    clock.install(clock_file)
    try:
        local = clock.now().astimezone(ZoneInfo("Europe/London"))
        quiet = QuietHours(
            start=f"{(local - timedelta(hours=1)):%H:%M}",
            end=f"{(local + timedelta(hours=2)):%H:%M}",
        )
        resting = NotificationPreferences(quiet_hours=quiet, language="cy")
        helper, neighbour = contacts.add("Nye"), contacts.add("Osian", preferences=resting)
        event = confirmed(helper, neighbour, on_the_hour(5))
        await publisher.publish(event)
        await one_each(mailbox, contacts.email(helper))

        async def waiting() -> bool:
            return (await _statuses(notify, event.event_id)).get(neighbour) == "pending"

        await eventually(waiting, what="the neighbour's notice recorded")
        await notify.sender.run_once()
        assert mailbox.to(contacts.email(neighbour)) == [], "nothing in quiet hours"
        async with notify.pool.acquire() as conn:
            due_at = await conn.fetchval(
                "SELECT due_at FROM deliveries WHERE event_id = $1 AND person_id = $2",
                event.event_id,
                neighbour,
            )
        assert f"{due_at.astimezone(ZoneInfo('Europe/London')):%H:%M}" == quiet.end

        clock.advance(clock_file, due_at - clock.now() + timedelta(seconds=1))
        await notify.sender.run_once()
        await one_each(mailbox, contacts.email(neighbour))
        [sent] = mailbox.to(contacts.email(neighbour))
        assert subject(sent).startswith("Mae eich ymweliad"), "in the language chosen"
    finally:
        clock.install(None)
