"""Notify's use cases: what each event means to whom, due reminders, and sending one notice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from services.notify.domain.notices import (
    REMINDERS,
    Channel,
    Kind,
    Notice,
    ReminderWindows,
    Visit,
    quiet_until,
    reminders_due,
    retry_at,
)
from services.notify.domain.wording import choose_language, when
from services.notify.service_layer.ports import (
    Claim,
    ContactBook,
    ContactUnavailable,
    Mailer,
    NotifyStore,
    SendFailed,
    Templates,
)
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    BookingRescheduled,
    Side,
    VisitCompleted,
)
from shared.contracts.requests import OfferMade
from shared.contracts.trust import VettingStepRecorded
from shared.notifications import SAFETY_KINDS, NoticeKind

log = structlog.get_logger(__name__)


def _visit(
    data: BookingConfirmed | BookingCancelled | BookingRescheduled | VisitCompleted,
) -> Visit:
    return Visit(
        data.booking_id,
        data.helper_id,
        data.neighbour_id,
        data.skill.value,
        data.starts_at,
        int(data.hours),
    )


async def handle(envelope: Envelope[Any], store: NotifyStore, now: datetime) -> int:
    """Record what ``envelope`` means to people; return how many new notices it made.

    Idempotent: the same event again records nothing new (each notice's identity includes the
    event id), so a redelivery never sends twice.
    """
    data: Payload = envelope.data
    event_id = envelope.event_id
    notices: list[Notice] = []
    if isinstance(data, BookingConfirmed):
        visit = _visit(data)
        await store.record_visit(visit)
        notices = visit.to_both(event_id, Kind.BOOKING_CONFIRMED, now)
    elif isinstance(data, BookingCancelled):
        visit = _visit(data)
        await store.end_visit(visit.booking_id)
        other = data.neighbour_id if data.cancelled_by is Side.HELPER else data.helper_id
        notices = [Notice(event_id, other, Kind.BOOKING_CANCELLED, now, visit.params())]
    elif isinstance(data, BookingRescheduled):
        visit = _visit(data)
        await store.move_visit(data.booking_id, data.starts_at, int(data.hours))
        await store.record_visit(visit)  # a visit booked before notify first ran
        params = {**visit.params(), "previous_starts_at": data.previous_starts_at.isoformat()}
        notices = [
            Notice(event_id, person, Kind.BOOKING_RESCHEDULED, now, params)
            for person in (visit.helper_id, visit.neighbour_id)
        ]
    elif isinstance(data, VisitCompleted):
        visit = _visit(data)
        await store.end_visit(visit.booking_id)
        notices = visit.to_both(event_id, Kind.CHECKIN_QUESTION, now)
    elif isinstance(data, OfferMade):
        params = {
            "skill": data.skill.value,
            "starts_at": data.starts_at.isoformat(),
            "hours": str(int(data.hours)),
            "expires_at": data.expires_at.isoformat(),
        }
        notices = [Notice(event_id, data.helper_id, Kind.OFFER_RECEIVED, now, params)]
    elif isinstance(data, VettingStepRecorded):
        # The reason of a failure is for operators: the person is told the outcome only.
        params = {"step": data.step.value, "outcome": data.outcome.value}
        notices = [Notice(event_id, data.person_id, Kind.VETTING_OUTCOME, now, params)]
    if not notices:
        return 0
    return await store.add_notices(notices)


async def record_due_reminders(store: NotifyStore, windows: ReminderWindows, now: datetime) -> int:
    """Record the reminders due at ``now``; return how many were new (each is recorded once)."""
    visits = await store.visits_starting(now, now + windows.day_before)
    notices = [notice for visit in visits for notice in reminders_due(visit, now, windows)]
    return await store.add_notices(notices) if notices else 0


class Result(StrEnum):
    """What became of one try of a notice."""

    SENT = "sent"
    RETRIED = "retried"
    FAILED = "failed"
    DROPPED = "dropped"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class Handled:
    """A notice tried, and what became of it."""

    notice: Notice
    result: Result


@dataclass(frozen=True, slots=True)
class Delivery:
    """How notices are tried."""

    max_attempts: int
    retry_base_s: float


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _values(
    params: dict[str, str], display_name: str, language: str, zone: ZoneInfo
) -> dict[str, str]:
    values = {**params, "name": display_name}
    if "skill" in params:
        values["skill"] = params["skill"].replace("_", " ")
    for key in ("starts_at", "expires_at", "previous_starts_at"):
        if key in params:
            values[key] = when(datetime.fromisoformat(params[key]), zone, language)
    return values


def _time(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def message_id(notice: Notice, domain: str = "kith.local") -> str:
    """The email's Message-ID, the same on every try: a message sent again after a crash
    between the server's acceptance and the log's commit is recognisably the same one."""
    key = f"{notice.event_id}/{notice.person_id}/{notice.channel}/{notice.kind}"
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, key)}@{domain}>"


async def send_next(
    store: NotifyStore,
    contacts: ContactBook,
    mailer: Mailer,
    templates: Templates,
    delivery: Delivery,
    now: datetime,
) -> Handled | None:
    """Send the earliest due notice and say what became of it; ``None`` when none is due.

    The notice stays locked from before it is sent until its outcome is committed, so two
    notify processes never send the same one.
    """
    async with store.claim_due(now) as claim:
        if claim is None:
            return None
        notice, attempts = claim.pending.notice, claim.pending.attempts + 1
        bound = log.bind(
            event_id=str(notice.event_id),
            person_id=str(notice.person_id),
            kind=str(notice.kind),
            channel=str(notice.channel),
            attempt=attempts,
        )
        try:
            contact = await contacts.contact(notice.person_id)
        except ContactUnavailable as error:
            result = await _retry_or_fail(
                claim, delivery, attempts, now, f"contact: {error}", bound
            )
            return Handled(notice, result)
        if contact is None:
            await claim.dropped("no such person (erased)")
            bound.info("notice dropped: no such person")
            return Handled(notice, Result.DROPPED)
        if notice.channel is Channel.EMAIL and not contact.email:
            # A person with no email (referred by a partner, or phone only) cannot be told
            # this way: it becomes an operator's task at once rather than after retries.
            await claim.failed("no email address")
            bound.warning("notice failed: no email address")
            return Handled(notice, Result.FAILED)
        assert contact.email is not None
        preferences = contact.preferences
        if not preferences.sends(notice.kind, notice.channel):
            await claim.dropped("turned off by the person")
            bound.info("notice dropped: turned off by the person")
            return Handled(notice, Result.DROPPED)
        zone = _zone(contact.time_zone)
        quiet = preferences.quiet_hours
        if quiet is not None and NoticeKind(str(notice.kind)) not in SAFETY_KINDS:
            until = quiet_until(now.astimezone(zone), _time(quiet.start), _time(quiet.end))
            starts = notice.params.get("starts_at")
            if (
                until is not None
                and notice.kind in REMINDERS
                and starts is not None
                and until >= datetime.fromisoformat(starts)
            ):
                # Quiet until after the visit has begun: a reminder then is no use.
                await claim.dropped("quiet hours last until the visit")
                bound.info("reminder dropped: quiet hours last until the visit")
                return Handled(notice, Result.DROPPED)
            if until is not None:
                await claim.deferred(until)
                bound.info("notice waits for the end of quiet hours", until=until.isoformat())
                return Handled(notice, Result.DEFERRED)
        spoken = [preferences.language] if preferences.language else []
        language = choose_language([*spoken, *contact.languages], templates.languages)
        values = _values(notice.params, contact.display_name, language, zone)
        subject, body = templates.render(language, notice.kind, values)
        try:
            await mailer.send(
                to=contact.email, subject=subject, body=body, message_id=message_id(notice)
            )
        except SendFailed as error:
            result = await _retry_or_fail(claim, delivery, attempts, now, f"smtp: {error}", bound)
            return Handled(notice, result)
        await claim.sent(now)
        bound.info("notice sent", language=language)
        return Handled(notice, Result.SENT)


async def _retry_or_fail(
    claim: Claim,
    delivery: Delivery,
    attempts: int,
    now: datetime,
    error: str,
    bound: structlog.typing.FilteringBoundLogger,
) -> Result:
    if attempts >= delivery.max_attempts:
        await claim.failed(error)
        bound.warning("notice failed for good", error=error)
        return Result.FAILED
    await claim.retry(retry_at(now, attempts, delivery.retry_base_s), error)
    bound.info("notice will be tried again", error=error)
    return Result.RETRIED
