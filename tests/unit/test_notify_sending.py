"""Sending due notices, over in-memory ports: quiet hours, safety, retries, channels."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from services.notify.adapters.templates import TemplateFolder
from services.notify.domain.notices import OPERATORS, Channel, Kind, Notice, Visit
from services.notify.service_layer.handlers import Delivery, Result, send_due
from services.notify.service_layer.ports import (
    Batch,
    Claim,
    Commit,
    Contact,
    HandOver,
    Outlets,
    Pending,
    PushSubscription,
    SendFailed,
)
from shared.notifications import NotificationPreferences, QuietHours

# 23:00 in London in December: inside quiet hours 22:00-07:00.
NOW = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
QUIET = NotificationPreferences(quiet_hours=QuietHours(start="22:00", end="07:00"))


class FakeClaim:
    def __init__(self, pending: Pending, left_s: float = 60.0) -> None:
        self.pending = pending
        self.outcome: tuple[str, object] | None = None
        self.left_s = left_s

    def seconds_left(self) -> float:
        return self.left_s

    async def sent(self, at: datetime) -> None:
        self.outcome = ("sent", at)

    @asynccontextmanager
    async def handing_over(self, at: datetime) -> AsyncIterator[Commit]:
        before = self.outcome
        committed = False

        async def commit() -> None:
            nonlocal committed
            self.outcome, committed = ("sent", at), True

        try:
            yield commit
        finally:
            if not committed:
                self.outcome = before

    async def retry(self, at: datetime, error: str) -> None:
        self.outcome = ("retry", at)

    async def deferred(self, until: datetime) -> None:
        self.outcome = ("deferred", until)

    async def failed(self, error: str) -> None:
        self.outcome = ("failed", error)

    async def dropped(self, reason: str) -> None:
        self.outcome = ("dropped", reason)


class FakeBatch:
    def __init__(self, claims: list[FakeClaim]) -> None:
        self.claims: list[FakeClaim] = claims
        self.routed: list[Notice] = []

    async def route(self, routes: Sequence[tuple[Claim, Sequence[Notice]]]) -> list[list[Claim]]:
        answer: list[list[Claim]] = []
        for claim, notices in routes:
            assert isinstance(claim, FakeClaim)
            claim.outcome = ("routed", None)
            self.routed.extend(notices)
            new = [FakeClaim(Pending(notice, 0)) for notice in notices]
            self.claims.extend(new)
            answer.append(list[Claim](new))
        return answer


class OneNotice:
    def __init__(self, notice: Notice, attempts: int = 0, left_s: float = 60.0) -> None:
        self.claim = FakeClaim(Pending(notice, attempts), left_s)
        self.batch = FakeBatch([self.claim])

    @asynccontextmanager
    async def claim_due(self, now: datetime, limit: int) -> AsyncIterator[Batch]:
        yield self.batch

    async def add_notices(self, notices: Sequence[Notice]) -> int:
        return 0

    async def record_visit(self, visit: Visit) -> None: ...

    async def end_visit(self, booking_id: uuid.UUID) -> None: ...

    async def keep_visit(self, visit: Visit) -> None: ...

    async def move_visit(self, booking_id: uuid.UUID, starts_at: datetime, hours: int) -> None: ...

    async def visits_starting(self, after: datetime, before: datetime) -> list[Visit]:
        return []

    async def remember_reopened(self, request_id: uuid.UUID) -> None: ...

    async def reopened(self, request_id: uuid.UUID) -> bool:
        return False

    async def remember_concern(self, concern_id: uuid.UUID, raised_by: uuid.UUID) -> None: ...

    async def concern_raiser(self, concern_id: uuid.UUID) -> uuid.UUID | None:
        return None

    def outcome(self, channel: Channel) -> tuple[str, object] | None:
        [claim] = [c for c in self.batch.claims if c.pending.notice.channel is channel]
        return claim.outcome


class Book:
    def __init__(
        self,
        preferences: NotificationPreferences,
        email: str | None = "ada@example.org",
        phone: str | None = None,
    ) -> None:
        self.preferences = preferences
        self.email = email
        self.phone = phone

    async def contacts(self, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Contact]:
        contact = Contact("Ada", self.email, self.phone, ["en"], "Europe/London", self.preferences)
        return dict.fromkeys(person_ids, contact)

    async def link_token(self, link_id: uuid.UUID) -> str:
        raise AssertionError("no account links here")


class Pushes:
    async def send(
        self, *, to: Sequence[PushSubscription], title: str, body: str, tag: str
    ) -> None:
        raise AssertionError("nobody here subscribed to pushes")


class Texts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, *, to: str, text: str) -> None:
        self.sent.append((to, text))


class Mailer:
    """A server that takes each message whole, or refuses it before or at its end-of-data
    line; ``claim``'s outcome is noted once that line and the record's commit are out."""

    def __init__(
        self,
        fails: bool = False,
        stalls: bool = False,
        refuses_at_end: bool = False,
        claim: FakeClaim | None = None,
    ) -> None:
        self.fails = fails
        self.stalls = stalls
        self.refuses_at_end = refuses_at_end
        self.claim = claim
        self.sent: list[str] = []
        self.at_end: list[tuple[str, object] | None] = []

    async def send(
        self, *, to: str, subject: str, body: str, message_id: str, handing_over: HandOver
    ) -> None:
        if self.stalls:
            await asyncio.Event().wait()
        if self.fails:
            raise SendFailed("the server answered 451")
        async with handing_over as commit:
            await commit()
        self.at_end.append(self.claim.outcome if self.claim else None)
        if self.refuses_at_end:
            raise SendFailed("the server answered 554")
        self.sent.append(subject)


def notice(kind: Kind, starts_in: timedelta, channel: Channel = Channel.ANY) -> Notice:
    starts = (NOW + starts_in).isoformat()
    params = {"starts_at": starts, "skill": "gardening"}
    return Notice(uuid.uuid4(), uuid.uuid4(), kind, NOW, params, channel)


async def _send(
    store: OneNotice,
    preferences: NotificationPreferences,
    mailer: Mailer,
    texts: Texts | None = None,
    book: Book | None = None,
) -> Result | None:
    handled = await send_due(
        store,
        book or Book(preferences),
        Outlets(mailer=mailer, texts=texts or Texts(), push=Pushes()),
        TemplateFolder(),
        Delivery(3, 2.0),
        NOW,
        limit=10,
    )
    # The last word on the notice: on its channel once routed.
    return handled[-1].result if handled else None


async def test_a_notice_in_quiet_hours_waits_until_they_end() -> None:
    store, mailer = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3))), Mailer()
    assert await _send(store, QUIET, mailer) is Result.DEFERRED
    assert store.claim.outcome == ("deferred", datetime(2026, 12, 9, 7, 0, tzinfo=UTC))
    assert mailer.sent == []


async def test_a_reminder_quiet_until_after_its_visit_is_dropped() -> None:
    store, mailer = OneNotice(notice(Kind.REMINDER_HOUR_BEFORE, timedelta(minutes=45))), Mailer()
    assert await _send(store, QUIET, mailer) is Result.DROPPED
    assert mailer.sent == []


async def test_a_cancellation_is_sent_in_quiet_hours() -> None:
    store, mailer = OneNotice(notice(Kind.BOOKING_CANCELLED, timedelta(hours=10))), Mailer()
    assert await _send(store, QUIET, mailer) is Result.SENT
    [sent] = mailer.sent
    assert "cancelled" in sent


async def test_a_refused_send_is_retried_then_fails_at_the_last_try() -> None:
    first = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3), Channel.EMAIL))
    assert await _send(first, NotificationPreferences(), Mailer(fails=True)) is Result.RETRIED
    assert first.claim.outcome == ("retry", NOW + timedelta(seconds=2))
    last = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3), Channel.EMAIL), attempts=2)
    assert await _send(last, NotificationPreferences(), Mailer(fails=True)) is Result.FAILED
    assert last.claim.outcome == ("failed", "email: the server answered 451")


async def test_an_email_is_recorded_sent_before_its_end_of_data_line_is_written() -> None:
    # A process killed after that line then never sends it again: the log already says sent.
    store = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3), Channel.EMAIL))
    mailer = Mailer(claim=store.claim)
    assert await _send(store, NotificationPreferences(), mailer) is Result.SENT
    assert mailer.at_end == [("sent", NOW)]
    assert store.claim.outcome == ("sent", NOW)


async def test_an_email_refused_at_its_end_of_data_line_is_taken_back_and_retried() -> None:
    store = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3), Channel.EMAIL))
    mailer = Mailer(refuses_at_end=True, claim=store.claim)
    assert await _send(store, NotificationPreferences(), mailer) is Result.RETRIED
    assert mailer.at_end == [("sent", NOW)]
    assert store.claim.outcome == ("retry", NOW + timedelta(seconds=2))


async def test_a_send_not_over_before_the_lease_ends_is_given_up_and_tried_again() -> None:
    # After the lease, another sender may take the notice: this one must not still be sending.
    store = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3), Channel.EMAIL), left_s=0.05)
    mailer = Mailer(stalls=True)
    assert await _send(store, NotificationPreferences(), mailer) is Result.RETRIED
    assert store.claim.outcome == ("retry", NOW + timedelta(seconds=2))
    assert mailer.sent == []
    spent = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3), Channel.EMAIL), left_s=-1)
    assert await _send(spent, NotificationPreferences(), Mailer()) is Result.RETRIED


async def test_a_notice_goes_by_email_by_default_and_is_routed_once() -> None:
    store, mailer = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3))), Mailer()
    texts = Texts()
    book = Book(NotificationPreferences(), phone="+44 7700 900123")
    assert await _send(store, NotificationPreferences(), mailer, texts, book) is Result.SENT
    assert store.claim.outcome == ("routed", None)
    assert [n.channel for n in store.batch.routed] == [Channel.EMAIL]
    assert len(mailer.sent) == 1
    assert texts.sent == []


async def test_someone_with_a_phone_and_no_email_gets_a_text_message() -> None:
    store, mailer = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3))), Mailer()
    texts = Texts()
    book = Book(NotificationPreferences(), email=None, phone="+44 7700 900123")
    assert await _send(store, NotificationPreferences(), mailer, texts, book) is Result.SENT
    assert store.outcome(Channel.SMS) is not None
    assert mailer.sent == []
    [(to, text)] = texts.sent
    assert to == "+44 7700 900123"
    assert text.startswith("Your visit is booked")


async def test_someone_with_no_email_and_no_phone_is_an_operator_task_at_once() -> None:
    store, mailer = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3))), Mailer()
    book = Book(NotificationPreferences(), email=None)
    assert await _send(store, NotificationPreferences(), mailer, book=book) is Result.FAILED
    assert store.claim.outcome == ("failed", "no email address or phone number")


async def test_a_number_the_provider_refuses_for_good_is_not_retried() -> None:
    class Refusing(Texts):
        async def send(self, *, to: str, text: str) -> None:
            raise SendFailed("the provider answered 400 (21211)", permanent=True)

    store = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3)))
    book = Book(NotificationPreferences(), email=None, phone="12")
    assert await _send(store, NotificationPreferences(), Mailer(), Refusing(), book) is (
        Result.FAILED
    )
    assert store.outcome(Channel.SMS) == ("failed", "sms: the provider answered 400 (21211)")


async def test_a_welfare_check_to_unset_operators_is_their_task_and_goes_in_quiet_hours() -> None:
    to_operators = Notice(
        uuid.uuid4(), OPERATORS, Kind.WELFARE_CHECK_OPERATORS, NOW, {"starts_at": NOW.isoformat()}
    )
    store = OneNotice(to_operators)
    assert await _send(store, QUIET, Mailer()) is Result.FAILED
    assert store.claim.outcome == ("failed", "no operators' address (KITH_OPERATORS_EMAIL)")

    mailer = Mailer()
    operators = Contact("Kith operators", "ops@example.org", None, ["en"], "Europe/London", QUIET)
    handled = await send_due(
        OneNotice(to_operators),
        Book(QUIET),
        Outlets(mailer=mailer, texts=Texts(), push=Pushes()),
        TemplateFolder(),
        Delivery(3, 2.0, operators=operators),
        NOW,
        limit=10,
    )
    assert handled[-1].result is Result.SENT, "a safety notice: quiet hours do not hold it"
    assert mailer.sent[0].startswith("Welfare check")


async def test_a_welfare_check_goes_to_the_emergency_contact_or_nobody() -> None:
    params = {"starts_at": NOW.isoformat()}
    store = OneNotice(Notice(uuid.uuid4(), uuid.uuid4(), Kind.WELFARE_CHECK, NOW, params))
    assert await _send(store, QUIET, Mailer()) is Result.DROPPED, "no emergency contact named"
