"""Sending one notice, over in-memory ports: quiet hours, safety, retries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from services.notify.adapters.templates import TemplateFolder
from services.notify.domain.notices import Kind, Notice, Visit
from services.notify.service_layer.handlers import Delivery, Result, send_next
from services.notify.service_layer.ports import Claim, Contact, Pending, SendFailed
from shared.notifications import NotificationPreferences, QuietHours

# 23:00 in London in December: inside quiet hours 22:00-07:00.
NOW = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
QUIET = NotificationPreferences(quiet_hours=QuietHours(start="22:00", end="07:00"))


class FakeClaim:
    def __init__(self, pending: Pending) -> None:
        self.pending = pending
        self.outcome: tuple[str, object] | None = None

    async def sent(self, at: datetime) -> None:
        self.outcome = ("sent", at)

    async def retry(self, at: datetime, error: str) -> None:
        self.outcome = ("retry", at)

    async def deferred(self, until: datetime) -> None:
        self.outcome = ("deferred", until)

    async def failed(self, error: str) -> None:
        self.outcome = ("failed", error)

    async def dropped(self, reason: str) -> None:
        self.outcome = ("dropped", reason)


class OneNotice:
    def __init__(self, notice: Notice, attempts: int = 0) -> None:
        self.claim = FakeClaim(Pending(notice, attempts))

    @asynccontextmanager
    async def claim_due(self, now: datetime) -> AsyncIterator[Claim | None]:
        yield self.claim

    async def add_notices(self, notices: Sequence[Notice]) -> int:
        return 0

    async def record_visit(self, visit: Visit) -> None: ...

    async def end_visit(self, booking_id: uuid.UUID) -> None: ...

    async def move_visit(self, booking_id: uuid.UUID, starts_at: datetime, hours: int) -> None: ...

    async def visits_starting(self, after: datetime, before: datetime) -> list[Visit]:
        return []


class Book:
    def __init__(self, preferences: NotificationPreferences) -> None:
        self.preferences = preferences

    async def contact(self, person_id: uuid.UUID) -> Contact | None:
        return Contact("Ada", "ada@example.org", None, ["en"], "Europe/London", self.preferences)


class Mailer:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.sent: list[str] = []

    async def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        if self.fails:
            raise SendFailed("the server answered 451")
        self.sent.append(subject)


def notice(kind: Kind, starts_in: timedelta) -> Notice:
    starts = (NOW + starts_in).isoformat()
    return Notice(
        uuid.uuid4(), uuid.uuid4(), kind, NOW, {"starts_at": starts, "skill": "gardening"}
    )


async def _send(
    store: OneNotice, preferences: NotificationPreferences, mailer: Mailer
) -> Result | None:
    handled = await send_next(
        store, Book(preferences), mailer, TemplateFolder(), Delivery(3, 2.0), NOW
    )
    return handled.result if handled else None


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
    first = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3)))
    assert await _send(first, NotificationPreferences(), Mailer(fails=True)) is Result.RETRIED
    assert first.claim.outcome == ("retry", NOW + timedelta(seconds=2))
    last = OneNotice(notice(Kind.BOOKING_CONFIRMED, timedelta(days=3)), attempts=2)
    assert await _send(last, NotificationPreferences(), Mailer(fails=True)) is Result.FAILED
    assert last.claim.outcome == ("failed", "smtp: the server answered 451")
