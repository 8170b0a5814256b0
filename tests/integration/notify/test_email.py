"""Notify through the real broker, its real database and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import REGISTRY

from services.notify.bootstrap import NotifyService
from services.notify.service_layer.ports import EmergencyContact
from services.ops.adapters.notify_figures import NotifyFigures
from shared import clock
from shared.contracts import Envelope
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    BookingKept,
    BookingRescheduled,
    RescheduleProposed,
    Side,
    WelfareCheckRequested,
)
from shared.contracts.skills import VettingStep
from shared.contracts.trust import (
    ConcernOutcome,
    ConcernRaised,
    ConcernResolved,
    RaisedBy,
    VettingOutcome,
    VettingStepRecorded,
)
from shared.embedded import free_port
from shared.embedded.mail import DevMailServer, subject
from shared.geo import neighbourhood_of
from shared.messaging import Publisher
from shared.notifications import NotificationPreferences, QuietHours
from tests.conftest import Stack
from tests.integration.notify.conftest import OPERATORS_EMAIL, Contacts, Mailbox, fresh_database
from tests.integration.notify.support import confirmed, emails_each, on_the_hour, one_each
from tests.support import eventually


def _tries(result: str, channel: str = "email") -> float:
    value = REGISTRY.get_sample_value("kith_notices_total", {"channel": channel, "result": result})
    return value or 0.0


async def test_a_booked_visit_emails_both_sides_in_their_own_language(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    helper = contacts.add("Ada")
    neighbour = contacts.add("Nia", languages=["cy", "en"])
    event = confirmed(helper, neighbour, on_the_hour(5))

    await publisher.publish(event)

    await one_each(mailbox, contacts.email(helper), contacts.email(neighbour))
    [to_helper] = mailbox.to(contacts.email(helper))
    [to_neighbour] = mailbox.to(contacts.email(neighbour))
    assert subject(to_helper).startswith("Your visit is booked: gardening on ")
    assert "Hello Ada," in to_helper.get_content()
    assert subject(to_neighbour).startswith("Mae eich ymweliad wedi'i drefnu")
    assert "Helo Nia," in to_neighbour.get_content()
    local = event.data.starts_at.astimezone(clock_zone())
    assert f"{local:%H:%M}" in subject(to_helper)
    assert to_helper["Message-ID"] != to_neighbour["Message-ID"]


def clock_zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


async def test_an_event_delivered_twice_sends_one_email_to_each(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    helper, neighbour = contacts.add("Bea"), contacts.add("Cai")
    event = confirmed(helper, neighbour, on_the_hour(6))
    await publisher.publish(event)
    await publisher.publish(event)
    await one_each(mailbox, contacts.email(helper), contacts.email(neighbour))
    # A fence: an event published after both copies, on the same topic, is mailed after
    # they were handled.
    fence_helper, fence_neighbour = contacts.add("Dai"), contacts.add("Eli")
    await publisher.publish(confirmed(fence_helper, fence_neighbour, on_the_hour(6)))
    await one_each(mailbox, contacts.email(fence_helper), contacts.email(fence_neighbour))
    await notify.sender.run_once()

    assert len(mailbox.to(contacts.email(helper))) == 1
    assert len(mailbox.to(contacts.email(neighbour))) == 1
    async with notify.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT channel, status FROM deliveries WHERE event_id = $1", event.event_id
        )
    # Each recorded once on no channel in particular, routed once to email, sent once.
    assert sorted((row["channel"], row["status"]) for row in rows) == [
        ("any", "routed"),
        ("any", "routed"),
        ("email", "sent"),
        ("email", "sent"),
    ]


async def test_a_cancellation_tells_the_other_side_and_vetting_the_helper(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    helper, neighbour = contacts.add("Fay"), contacts.add("Gwen")
    booking = confirmed(helper, neighbour, on_the_hour(4))
    cancelled = BookingCancelled(
        **booking.data.model_dump(exclude={"offer_id", "referred_by"}),
        cancelled_by=Side.HELPER,
        late=False,
    )
    vetting = VettingStepRecorded(
        person_id=helper,
        step=VettingStep.REFERENCES,
        outcome=VettingOutcome.FAILED,
        recorded_by="coordinator",
    )
    await publisher.publish_many(
        [
            booking,
            Envelope.wrap(cancelled, producer="test"),
            Envelope.wrap(vetting, producer="test"),
        ]
    )

    await one_each(mailbox, contacts.email(neighbour), subject_has="is cancelled")
    await one_each(mailbox, contacts.email(helper), subject_has="references check: failed")
    told_helper = [subject(m) for m in mailbox.to(contacts.email(helper))]
    assert not any("cancelled" in subject for subject in told_helper), "the canceller is not told"
    vetting_mail = next(m for m in mailbox.to(contacts.email(helper)) if "check" in subject(m))
    assert "your references check as failed" in vetting_mail.get_content()


async def test_reminders_go_once_the_day_before_and_the_hour_before(
    notify: NotifyService,
    publisher: Publisher,
    contacts: Contacts,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "clock"
    clock.install(clock_file)
    try:
        helper, neighbour = contacts.add("Huw"), contacts.add("Ifan", languages=["cy"])
        starts_at = on_the_hour(3)
        await publisher.publish(confirmed(helper, neighbour, starts_at))
        await one_each(mailbox, contacts.email(helper), contacts.email(neighbour))
        await notify.sender.run_once()
        assert len(mailbox.to(contacts.email(helper))) == 1, "no reminder two days ahead"

        clock.advance(clock_file, starts_at - timedelta(hours=23) - clock.now())
        for _ in range(3):  # sweeps again and again find it due: it is sent once
            await notify.sender.run_once()
        await one_each(mailbox, contacts.email(helper), subject_has="Tomorrow")
        await one_each(mailbox, contacts.email(neighbour), subject_has="Yfory")
        assert len(mailbox.to(contacts.email(helper))) == 2
        assert len(mailbox.to(contacts.email(neighbour))) == 2

        clock.advance(clock_file, starts_at - timedelta(minutes=30) - clock.now())
        await notify.sender.run_once()
        await notify.sender.run_once()
        # The third email each, in their own languages (any subject would match the two
        # already there).
        await emails_each(mailbox, 3, contacts.email(helper), contacts.email(neighbour))
        subjects = [subject(m) for m in mailbox.to(contacts.email(helper))]
        assert len(subjects) == 3
        assert subjects[2].startswith("Soon: gardening")
    finally:
        clock.install(None)


async def test_a_notice_that_cannot_be_sent_is_retried_then_an_operator_task(
    stack: Stack, publisher: Publisher, mail_server: DevMailServer
) -> None:
    contacts = Contacts()
    helper = contacts.add("Jac")
    no_email = contacts.add("Kit", email=False)
    dead_port = free_port("127.0.0.1")  # nothing listens: every try fails
    service = NotifyService(
        stack.settings(
            smtp_host="127.0.0.1",
            smtp_port=dead_port,
            notify_max_attempts=3,
            notify_retry_base_s=0.05,
            notify_poll_s=3600,
        ),
        database_url=fresh_database(stack.database_url),
        group_id=f"test-notify-{uuid.uuid4()}",
        contacts=contacts,
    )
    before = {result: _tries(result) for result in ("retried", "failed")}
    unreachable_before = _tries("failed", "any")
    await service.start()
    try:
        await asyncio.wait_for(service.ready(), timeout=30)
        event = confirmed(helper, no_email, on_the_hour(5))
        await publisher.publish(event)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service.app()), base_url="http://notify.test"
        )
        operator = {"Authorization": f"Bearer {service.operator_token}"}

        async def both_failed() -> list[dict[str, Any]] | None:
            response = await client.get("/v1/operator/notices/failed", headers=operator)
            assert response.status_code == 200, response.text
            items: list[dict[str, Any]] = [
                item for item in response.json()["items"] if item["event_id"] == str(event.event_id)
            ]
            return items if len(items) == 2 else None

        items = {item["person_id"]: item for item in await eventually(both_failed)}
        assert items[str(helper)]["attempts"] == 3
        assert items[str(helper)]["reason"] == "email: SMTPConnectError"
        assert items[str(helper)]["channel"] == "email"
        assert items[str(no_email)]["attempts"] == 1
        assert items[str(no_email)]["reason"] == "no email address or phone number"
        assert "@" not in str(items), "no address in the operators' list"

        # Per channel, in /metrics: two retries of one, and both failed for good. The sender
        # counts a batch once its transaction is over, a moment after the list shows it.
        async def counted() -> bool | None:
            return (
                _tries("retried") - before["retried"] >= 2
                and _tries("failed") - before["failed"] >= 1
                and _tries("failed", "any") - unreachable_before >= 1
            ) or None

        await eventually(counted, what="the failures counted in the metrics")
        # No token: asked to sign in; a token that is no operator's: refused.
        assert (await client.get("/v1/operator/notices/failed")).status_code == 401
        stranger = {"Authorization": "Bearer a-neighbours-session"}
        refused = await client.get("/v1/operator/notices/failed", headers=stranger)
        assert refused.status_code == 403

        # What the operators' console shows of notify: this service's database is its own,
        # but its consumer also reads what other tests left on the shared topics (welfare
        # checks with no operators' address are tasks too): count every open task listed.
        listed = (await client.get("/v1/operator/notices/failed", headers=operator)).json()
        open_tasks = len(listed["items"])
        summary = (await client.get("/v1/operator/notices/summary", headers=operator)).json()
        assert summary["channels"]["email"] == {"sent": 0, "failed": 1, "retried": 2, "pending": 0}
        assert summary["open_tasks"] == open_tasks >= 2
        task = {key: items[str(helper)][key] for key in ("event_id", "person_id", "kind")}
        task["channel"] = "email"
        done = await client.post(
            "/v1/operator/notices/failed/resolved", json=task, headers=operator
        )
        assert done.status_code == 204, done.text
        again = await client.post(
            "/v1/operator/notices/failed/resolved", json=task, headers=operator
        )
        assert again.status_code == 404
        bad = await client.post(
            "/v1/operator/notices/failed/resolved",
            json={**task, "person_id": "x"},
            headers=operator,
        )
        assert bad.status_code == 422
        assert "person_id" in bad.text
        left = (await client.get("/v1/operator/notices/failed", headers=operator)).json()["items"]
        ours = [item["person_id"] for item in left if item["event_id"] == str(event.event_id)]
        assert ours == [str(no_email)]
        summary = (await client.get("/v1/operator/notices/summary", headers=operator)).json()
        assert summary["open_tasks"] == open_tasks - 1
        await client.aclose()

        # The operators' console's line for notify, asked of this notify's API.
        console_side = NotifyFigures(
            "http://notify.test",
            service.operator_token,
            transport=httpx.ASGITransport(app=service.app()),
        )
        await console_side.refresh()
        assert console_side.latest == {
            "channels": {"email": {"sent": 0, "failed": 1, "retried": 2, "pending": 0}},
            "open_tasks": open_tasks - 1,
        }
        await console_side.close()
        unknown_app = httpx.ASGITransport(app=service.app())
        unknown = NotifyFigures("http://notify.test", "wrong", transport=unknown_app)
        await unknown.refresh()
        assert unknown.latest is None, "refused: shown as unknown, never as zero"
        await unknown.close()
    finally:
        await service.stop()


async def test_a_moved_visit_is_told_to_both_and_reminded_at_its_new_time_only(
    notify: NotifyService,
    publisher: Publisher,
    contacts: Contacts,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "clock"
    clock.install(clock_file)
    try:
        helper, neighbour = contacts.add("Tom"), contacts.add("Wyn", languages=["cy"])
        booking = confirmed(helper, neighbour, on_the_hour(3))
        old_start = booking.data.starts_at
        new_start = old_start + timedelta(days=2)
        moved = BookingRescheduled(
            **{
                **booking.data.model_dump(exclude={"offer_id", "referred_by"}),
                "starts_at": new_start,
            },
            previous_starts_at=old_start,
            previous_hours=2,
            proposed_by=Side.NEIGHBOUR,
        )
        await publisher.publish_many([booking, Envelope.wrap(moved, producer="test")])
        await one_each(mailbox, contacts.email(helper), subject_has="has moved to")
        await one_each(mailbox, contacts.email(neighbour), subject_has="wedi symud")

        clock.advance(clock_file, old_start - timedelta(hours=23) - clock.now())
        await notify.sender.run_once()
        assert not any("Tomorrow" in subject(m) for m in mailbox.to(contacts.email(helper))), (
            "no reminder at the old time"
        )

        clock.advance(clock_file, new_start - timedelta(hours=23) - clock.now())
        await notify.sender.run_once()
        await one_each(mailbox, contacts.email(helper), subject_has="Tomorrow")
        [reminder] = [m for m in mailbox.to(contacts.email(helper)) if "Tomorrow" in subject(m)]
        local = new_start.astimezone(clock_zone())
        assert f"{local:%H:%M}" in subject(reminder)
    finally:
        clock.install(None)


async def test_a_neighbour_whose_helper_called_off_hears_when_someone_else_comes(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    first, second, neighbour = contacts.add("Hal"), contacts.add("Ivy"), contacts.add("Jo")
    booking = confirmed(first, neighbour, on_the_hour(6))
    called_off = BookingCancelled(
        **booking.data.model_dump(exclude={"offer_id", "referred_by"}),
        cancelled_by=Side.HELPER,
        late=False,
    )
    # Booking asks for the same occurrence again (the same request): someone else takes it.
    again = BookingConfirmed(
        **{**booking.data.model_dump(), "booking_id": uuid.uuid4(), "helper_id": second}
    )
    await publisher.publish_many(
        [booking, Envelope.wrap(called_off, producer="test"), Envelope.wrap(again, producer="test")]
    )

    await one_each(mailbox, contacts.email(neighbour), subject_has="Someone else will come")
    await one_each(mailbox, contacts.email(second), subject_has="Your visit is booked")
    told = [subject(m) for m in mailbox.to(contacts.email(neighbour))]
    assert sum("is booked" in s for s in told) == 1, "the first booking only"


async def test_a_held_visit_kept_after_all_is_news_to_both_and_reminded_again(
    notify: NotifyService,
    publisher: Publisher,
    contacts: Contacts,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "clock"
    clock.install(clock_file)
    try:
        helper, neighbour = contacts.add("Hedd"), contacts.add("Siân", languages=["cy"])
        starts_at = on_the_hour(3)
        booking = confirmed(helper, neighbour, starts_at)
        # A suspension held it (called off by Kith, the helper's side), then an operator kept
        # it with the same two people.
        held = BookingCancelled(
            **booking.data.model_dump(exclude={"offer_id", "referred_by"}),
            cancelled_by=Side.HELPER,
            late=False,
        )
        kept = BookingKept(**booking.data.model_dump())
        await publisher.publish_many(
            [booking, Envelope.wrap(held, producer="test"), Envelope.wrap(kept, producer="test")]
        )

        await one_each(mailbox, contacts.email(helper), subject_has="will go ahead after all")
        await one_each(mailbox, contacts.email(neighbour), subject_has="digwydd wedi'r cyfan")
        told = [subject(m) for m in mailbox.to(contacts.email(neighbour))]
        assert not any("rhywun arall" in s.lower() for s in told), (
            "the same helper, not someone else"
        )
        clock.advance(clock_file, starts_at - timedelta(hours=23) - clock.now())
        await notify.sender.run_once()
        await one_each(mailbox, contacts.email(helper), subject_has="Tomorrow")
    finally:
        clock.install(None)


async def test_whoever_raised_a_concern_hears_it_was_closed_and_nothing_of_the_outcome(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    raiser, about = contacts.add("Kay"), contacts.add("Lee")
    concern_id = uuid.uuid4()
    raised = ConcernRaised(
        concern_id=concern_id, about_id=about, raised_by_id=raiser, raised_by_role=RaisedBy.PERSON
    )
    closed = ConcernResolved(
        concern_id=concern_id,
        about_id=about,
        outcome=ConcernOutcome.REMOVE,
        resolved_by="coordinator",
    )
    await publisher.publish_many(
        [Envelope.wrap(raised, producer="test"), Envelope.wrap(closed, producer="test")]
    )

    await one_each(mailbox, contacts.email(raiser), subject_has="has been looked at")
    [email] = mailbox.to(contacts.email(raiser))
    text = email.get_content().lower()
    assert "remove" not in text, "no outcome"
    assert "reinstate" not in text, "no outcome"
    assert "Lee" not in email.get_content(), "nor whom it was about"
    assert mailbox.to(contacts.email(about)) == [], "the person it was about is not told here"


async def test_a_welfare_check_tells_the_emergency_contact_and_operators_whatever_the_quiet_hours(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    always_quiet = NotificationPreferences(quiet_hours=QuietHours(start="00:00", end="23:59"))
    named = EmergencyContact("Mona", "mona-emergency@example.org", "+44 7700 900333")
    neighbour = contacts.add("Nell", preferences=always_quiet, emergency=named)
    alone = contacts.add("Olwen", languages=["cy"])  # named nobody
    starts_at = on_the_hour(-0.1)
    events = [
        Envelope.wrap(
            WelfareCheckRequested(
                booking_id=uuid.uuid4(),
                neighbour_id=person,
                helper_id=uuid.uuid4(),
                neighbourhood=neighbourhood_of(51.5, -0.1),
                starts_at=starts_at,
                has_note=True,
            ),
            producer="test",
        )
        for person in (neighbour, alone)
    ]
    await publisher.publish_many(events)

    await one_each(mailbox, "mona-emergency@example.org", subject_has="checking on Nell")
    [to_contact] = mailbox.to("mona-emergency@example.org")
    assert "Hello Mona," in to_contact.get_content()

    async def both_to_operators() -> list[EmailMessage] | None:
        told = [m for m in mailbox.to(OPERATORS_EMAIL) if "Welfare check" in subject(m)]
        mine = [
            m for m in told if str(neighbour) in m.get_content() or str(alone) in m.get_content()
        ]
        return mine if len(mine) == 2 else None

    for email in await eventually(both_to_operators, what="both welfare checks to operators"):
        assert "The helper left a note: yes" in email.get_content()
    # Nobody else is written to: not the neighbours themselves.
    assert mailbox.to(contacts.email(neighbour)) == []
    assert mailbox.to(contacts.email(alone)) == []

    async def nobody_named() -> bool:
        async with notify.pool.acquire() as conn:
            status = await conn.fetchval(
                "SELECT status FROM deliveries WHERE event_id = $1 AND kind = 'welfare_check'",
                events[1].event_id,
            )
        return bool(status == "dropped")

    # No emergency contact named: nobody to tell but the operators.
    await eventually(nobody_named, what="the welfare check to nobody dropped")


async def test_a_proposed_new_time_asks_the_other_side_only(
    notify: NotifyService, publisher: Publisher, contacts: Contacts, mailbox: Mailbox
) -> None:
    helper, neighbour = contacts.add("Kit"), contacts.add("Lowri", languages=["cy"])
    booking = confirmed(helper, neighbour, on_the_hour(5))
    old_start = booking.data.starts_at
    asked = old_start + timedelta(days=1)
    proposal = RescheduleProposed(
        booking_id=booking.data.booking_id,
        helper_id=helper,
        neighbour_id=neighbour,
        neighbourhood=booking.data.neighbourhood,
        starts_at=old_start,
        hours=2,
        proposed_starts_at=asked,
        proposed_hours=3,
        proposed_by=Side.HELPER,
    )
    await publisher.publish(Envelope.wrap(proposal, producer="test"))
    await one_each(mailbox, contacts.email(neighbour), subject_has="All eich ymweliad symud")
    [asked_mail] = [m for m in mailbox.to(contacts.email(neighbour)) if "symud" in subject(m)]
    local = asked.astimezone(clock_zone())
    assert f"{local:%H:%M}" in subject(asked_mail)
    assert "am 3 awr" in asked_mail.get_content()
    # A fence: an event after the proposal is mailed after it was handled; the helper, who
    # proposed it, was told nothing.
    await publisher.publish(booking)
    await one_each(mailbox, contacts.email(helper), subject_has="Your visit is booked")
    assert not [m for m in mailbox.to(contacts.email(helper)) if "move" in subject(m)]
