"""Notify's use cases: what each event means to whom, due reminders, and sending one notice."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from services.notify.domain.notices import (
    LINKS,
    OPERATORS,
    REMINDERS,
    TEXTED_LINKS,
    WELFARE,
    Channel,
    Kind,
    Notice,
    ReminderWindows,
    Visit,
    quiet_until,
    reminders_due,
    retry_at,
)
from services.notify.domain.routing import Reach, route
from services.notify.domain.wording import choose_language, when
from services.notify.service_layer.ports import (
    Claim,
    Contact,
    ContactBook,
    ContactUnavailable,
    LinkGone,
    NotifyStore,
    Outlets,
    Pending,
    SendFailed,
    Templates,
)
from shared.contracts import Envelope, Payload
from shared.contracts.bookings import (
    BookingCancelled,
    BookingConfirmed,
    BookingKept,
    BookingRescheduled,
    RescheduleProposed,
    Side,
    VisitCompleted,
    WelfareCheckRequested,
)
from shared.contracts.people import AccountLinkRequested, LinkPurpose
from shared.contracts.requests import OfferMade
from shared.contracts.trust import ConcernRaised, ConcernResolved, VettingStepRecorded
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
    if isinstance(data, BookingKept):
        # A visit a suspension held goes ahead after all, with the same two people: it is
        # news to both, and its reminders fall due again.
        visit = _visit(data)
        await store.keep_visit(visit)
        notices = visit.to_both(event_id, Kind.BOOKING_KEPT, now)
    elif isinstance(data, BookingConfirmed):
        visit = _visit(data)
        await store.record_visit(visit)
        notices = visit.to_both(event_id, Kind.BOOKING_CONFIRMED, now)
        if await store.reopened(data.request_id):
            # The neighbour was told their helper called it off: the news is someone else.
            notices[1] = Notice(
                event_id, data.neighbour_id, Kind.BOOKING_REOFFERED, now, visit.params()
            )
    elif isinstance(data, BookingCancelled):
        visit = _visit(data)
        await store.end_visit(visit.booking_id)
        other = data.neighbour_id if data.cancelled_by is Side.HELPER else data.helper_id
        notices = [Notice(event_id, other, Kind.BOOKING_CANCELLED, now, visit.params())]
        if data.cancelled_by is Side.HELPER and data.starts_at > now:
            # Booking asks for the same occurrence again (same request): its next booking
            # is news of someone else coming.
            await store.remember_reopened(data.request_id)
    elif isinstance(data, WelfareCheckRequested):
        params = {
            "booking_id": str(data.booking_id),
            "neighbour_id": str(data.neighbour_id),
            "starts_at": data.starts_at.isoformat(),
            "has_note": "yes" if data.has_note else "no",
        }
        notices = [
            Notice(event_id, data.neighbour_id, Kind.WELFARE_CHECK, now, params),
            Notice(event_id, OPERATORS, Kind.WELFARE_CHECK_OPERATORS, now, params),
        ]
    elif isinstance(data, ConcernRaised):
        if data.raised_by_id is not None:
            await store.remember_concern(data.concern_id, data.raised_by_id)
    elif isinstance(data, ConcernResolved):
        raised_by = await store.concern_raiser(data.concern_id)
        if raised_by is not None:
            # Whoever raised it learns that it was looked at, never what was decided: the
            # outcome concerns another person.
            notices = [Notice(event_id, raised_by, Kind.CONCERN_CLOSED, now, {})]
    elif isinstance(data, BookingRescheduled):
        visit = _visit(data)
        await store.move_visit(data.booking_id, data.starts_at, int(data.hours))
        await store.record_visit(visit)  # a visit booked before notify first ran
        params = {**visit.params(), "previous_starts_at": data.previous_starts_at.isoformat()}
        notices = [
            Notice(event_id, person, Kind.BOOKING_RESCHEDULED, now, params)
            for person in (visit.helper_id, visit.neighbour_id)
        ]
    elif isinstance(data, RescheduleProposed):
        # The proposer knows: the other side is asked to confirm or decline in the app.
        other = data.neighbour_id if data.proposed_by is Side.HELPER else data.helper_id
        params = {
            "booking_id": str(data.booking_id),
            "starts_at": data.proposed_starts_at.isoformat(),
            "hours": str(int(data.proposed_hours)),
            "previous_starts_at": data.starts_at.isoformat(),
        }
        notices = [Notice(event_id, other, Kind.RESCHEDULE_PROPOSED, now, params)]
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
    elif isinstance(data, AccountLinkRequested):
        # The link's id only: the token is asked of booking when the email is sent, so it is
        # never in the delivery log.
        kind = _LINK_KINDS[data.purpose]
        params = {"link_id": str(data.link_id), "expires_at": data.expires_at.isoformat()}
        notices = [Notice(event_id, data.person_id, kind, now, params)]
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
    #: A notice on ``Channel.ANY`` became one on each of the person's channels.
    ROUTED = "routed"


@dataclass(frozen=True, slots=True)
class Handled:
    """A notice tried, and what became of it."""

    notice: Notice
    result: Result


@dataclass(frozen=True, slots=True)
class Delivery:
    """How notices are tried, and how Kith's operators are reached (``None``: they are not,
    and a notice to them is listed as a task on their console instead)."""

    max_attempts: int
    retry_base_s: float
    operators: Contact | None = None
    #: The web app's address, for account links (``<web_app_url>#/reset?token=...``).
    web_app_url: str = "http://127.0.0.1:8000/app/"


#: What each purpose of an account link is told as.
_LINK_KINDS = {
    LinkPurpose.RESET_PASSWORD: Kind.RESET_PASSWORD,
    LinkPurpose.VERIFY_EMAIL: Kind.VERIFY_EMAIL,
    LinkPurpose.WELCOME: Kind.WELCOME,
}

#: The web app's screen for each kind of account link (a welcome link chooses a first
#: password on the reset screen).
_LINK_SCREENS = {Kind.RESET_PASSWORD: "reset", Kind.VERIFY_EMAIL: "verify", Kind.WELCOME: "reset"}


def link_url(web_app_url: str, kind: Kind, token: str) -> str:
    """The link an account email carries: the web app's screen with the token."""
    return f"{web_app_url}#/{_LINK_SCREENS[kind]}?token={token}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _values(
    params: dict[str, str],
    display_name: str,
    language: str,
    zone: ZoneInfo,
    about: str | None = None,
) -> dict[str, str]:
    values = {**params, "name": display_name, "neighbour": about or ""}
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
    """The email's Message-ID, the same on every try: a message sent again after its
    connection broke past the end-of-data line, unanswered, is recognisably the same one."""
    key = f"{notice.event_id}/{notice.person_id}/{notice.channel}/{notice.kind}"
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, key)}@{domain}>"


async def send_due(
    store: NotifyStore,
    contacts: ContactBook,
    outlets: Outlets,
    templates: Templates,
    delivery: Delivery,
    now: datetime,
    limit: int = 1,
) -> list[Handled]:
    """Send up to ``limit`` of the earliest due notices and say what became of each (none
    handled: nothing was due).

    One question to booking for the whole batch's contacts, and the batch's messages sent at
    once: per notice, only the message itself is left. The notices stay locked from before
    they are sent until their outcomes are committed, so two notify processes never send the
    same one.
    """
    async with store.claim_due(now, limit) as batch:
        claims = list(batch.claims)
        if not claims:
            return []
        people = {claim.pending.notice.person_id for claim in claims} - {OPERATORS}
        try:
            found = await contacts.contacts(people) if people else {}
        except ContactUnavailable as error:
            return [
                Handled(
                    claim.pending.notice,
                    await _retry_or_fail(
                        claim, delivery, now, f"contact: {error}", _bound(claim.pending)
                    ),
                )
                for claim in claims
            ]
        handled: list[Handled] = []
        ready: list[tuple[Claim, Contact]] = []
        to_route: list[tuple[Claim, list[Notice], Contact]] = []
        for claim in claims:
            notice = claim.pending.notice
            contact = _recipient(notice, found, delivery)
            result = await _hold(claim, contact, now)
            if result is not None:
                handled.append(Handled(notice, result))
                continue
            assert contact is not None
            if notice.channel is not Channel.ANY:
                ready.append((claim, contact))
                continue
            routed = await _route(claim, contact, now)
            if isinstance(routed, Result):
                handled.append(Handled(notice, routed))
                continue
            handled.append(Handled(notice, Result.ROUTED))
            to_route.append((claim, routed, contact))
        if to_route:
            # One statement records the whole batch's routed notices.
            news = await batch.route([(claim, notices) for claim, notices, _ in to_route])
            for (_, _, contact), new in zip(to_route, news, strict=True):
                ready.extend((each, contact) for each in new)
        handled.extend(
            await asyncio.gather(
                *(
                    _deliver(claim, contact, contacts, outlets, templates, delivery, now)
                    for claim, contact in ready
                )
            )
        )
        return handled


#: The kinds a person chooses channels for (welfare checks go to others).
_CHOSEN = frozenset(str(kind) for kind in NoticeKind)

_ADDRESS = {
    Channel.EMAIL: "email address",
    Channel.SMS: "phone",
    Channel.PUSH: "push subscription",
    Channel.ANY: "channel",
}


def _recipient(
    notice: Notice, found: dict[uuid.UUID, Contact], delivery: Delivery
) -> Contact | None:
    """Who is told: the person, their emergency contact (a welfare check, in the person's
    language and time zone), or the operators."""
    if notice.person_id == OPERATORS:
        return delivery.operators
    contact = found.get(notice.person_id)
    if notice.kind is not Kind.WELFARE_CHECK or contact is None:
        return contact
    named = contact.emergency
    if named is None:
        return None
    return Contact(
        display_name=named.name,
        email=named.email,
        phone=named.phone,
        languages=[contact.preferences.language or "", *contact.languages],
        time_zone=contact.time_zone,
        about=contact.display_name,
    )


def _safety(kind: Kind) -> bool:
    return kind in WELFARE or str(kind) in SAFETY_KINDS


def _urgent(kind: Kind) -> bool:
    """Sent in quiet hours too: a safety notice, or an account link someone waits for."""
    return _safety(kind) or kind in LINKS


def _bound(pending: Pending) -> structlog.typing.FilteringBoundLogger:
    notice = pending.notice
    return cast(
        structlog.typing.FilteringBoundLogger,
        log.bind(
            event_id=str(notice.event_id),
            person_id=str(notice.person_id),
            kind=str(notice.kind),
            channel=str(notice.channel),
            attempt=pending.attempts + 1,
        ),
    )


async def _hold(claim: Claim, contact: Contact | None, now: datetime) -> Result | None:
    """Why ``claim`` is not sent now (dropped or waiting), or ``None`` to go on."""
    notice, bound = claim.pending.notice, _bound(claim.pending)
    if contact is None and notice.person_id == OPERATORS:
        await claim.failed("no operators' address (KITH_OPERATORS_EMAIL)")
        bound.warning("notice failed: no operators' address")
        return Result.FAILED
    if contact is None:
        # Erased, or (a welfare check) no emergency contact named: nobody to tell.
        await claim.dropped("nobody to tell (erased, or no emergency contact)")
        bound.info("notice dropped: nobody to tell")
        return Result.DROPPED
    preferences = contact.preferences
    chose = str(notice.kind) in _CHOSEN and notice.channel is not Channel.ANY
    if chose and not preferences.sends(notice.kind, notice.channel):
        await claim.dropped("turned off by the person")
        bound.info("notice dropped: turned off by the person")
        return Result.DROPPED
    quiet = preferences.quiet_hours
    if quiet is None or _urgent(notice.kind):
        return None
    zone = _zone(contact.time_zone)
    until = quiet_until(now.astimezone(zone), _time(quiet.start), _time(quiet.end))
    if until is None:
        return None
    starts = notice.params.get("starts_at")
    if notice.kind in REMINDERS and starts is not None and until >= datetime.fromisoformat(starts):
        # Quiet until after the visit has begun: a reminder then is no use.
        await claim.dropped("quiet hours last until the visit")
        bound.info("reminder dropped: quiet hours last until the visit")
        return Result.DROPPED
    await claim.deferred(until)
    bound.info("notice waits for the end of quiet hours", until=until.isoformat())
    return Result.DEFERRED


async def _route(claim: Claim, contact: Contact, now: datetime) -> list[Notice] | Result:
    """The notice on each channel it goes on, or what became of it when it goes on none."""
    notice, bound = claim.pending.notice, _bound(claim.pending)
    if notice.kind in LINKS:
        if contact.email:
            return [notice.on(Channel.EMAIL, now)]
        if notice.kind in TEXTED_LINKS and contact.phone:
            # Signed up with a phone only: the link goes to the phone.
            return [notice.on(Channel.SMS, now)]
        await claim.dropped("no email address (or phone) to send the link to")
        bound.info("link dropped: no email address or phone")
        return Result.DROPPED
    kind = str(notice.kind)
    chosen = contact.preferences.channels.get(NoticeKind(kind)) if kind in _CHOSEN else None
    decided = route(
        None if chosen is None else [str(c) for c in chosen],
        Reach(email=bool(contact.email), phone=bool(contact.phone), push=bool(contact.push)),
        safety=_safety(notice.kind),
    )
    if decided.none_because == "off":
        await claim.dropped("turned off by the person")
        bound.info("notice dropped: turned off by the person")
        return Result.DROPPED
    if not decided.channels:
        # Nobody to write to (referred by a partner with no email or phone): an operator's
        # task at once rather than after retries.
        await claim.failed("no email address or phone number")
        bound.warning("notice failed: no way to reach the person")
        return Result.FAILED
    return [notice.on(channel, now) for channel in decided.channels]


async def _deliver(
    claim: Claim,
    contact: Contact,
    contacts: ContactBook,
    outlets: Outlets,
    templates: Templates,
    delivery: Delivery,
    now: datetime,
) -> Handled:
    notice, bound = claim.pending.notice, _bound(claim.pending)
    if not Reach(bool(contact.email), bool(contact.phone), bool(contact.push)).has(notice.channel):
        # The person's details changed since the notice was routed (or it was recorded on a
        # channel before routing existed): an operator's task at once.
        await claim.failed(f"no {_ADDRESS[notice.channel]}")
        bound.warning("notice failed: no address on its channel")
        return Handled(notice, Result.FAILED)
    preferences = contact.preferences
    zone = _zone(contact.time_zone)
    spoken = [preferences.language] if preferences.language else []
    language = choose_language([*spoken, *contact.languages], templates.languages)
    values = _values(notice.params, contact.display_name, language, zone, contact.about)
    if notice.kind in LINKS:
        try:
            # Asked for at the last moment and put in the message only: never in the
            # delivery log (the notice holds the link's id), never in a log line.
            token = await contacts.link_token(uuid.UUID(notice.params["link_id"]))
        except LinkGone as error:
            await claim.dropped(f"link: {error}")
            bound.info("link dropped: used, expired or erased")
            return Handled(notice, Result.DROPPED)
        except ContactUnavailable as error:
            return Handled(
                notice, await _retry_or_fail(claim, delivery, now, f"link: {error}", bound)
            )
        values["link"] = link_url(delivery.web_app_url, notice.kind, token)
    subject, body = templates.render(language, notice.kind, values)
    try:
        # Over before the claim's lease ends, or not at all: after it, another sender may
        # take the notice, and two sends of one notice must never overlap.
        left = claim.seconds_left()
        if left <= 0:
            raise TimeoutError
        async with asyncio.timeout(left):
            await _send(claim, contact, outlets, subject, body, now)
    except TimeoutError:
        reason = f"{notice.channel}: not sent before the sender's lease ended"
        return Handled(notice, await _retry_or_fail(claim, delivery, now, reason, bound))
    except SendFailed as error:
        reason = f"{notice.channel}: {error}"
        if error.permanent:
            await claim.failed(reason)
            bound.warning("notice refused for good", error=reason)
            return Handled(notice, Result.FAILED)
        return Handled(notice, await _retry_or_fail(claim, delivery, now, reason, bound))
    if notice.channel is not Channel.EMAIL:
        # An SMS or a push: its provider's answer is the only moment there is (an email
        # was recorded as it was handed over).
        await claim.sent(now)
    # Debug: one line a notice at a hundred bookings a second is a load of its own (the
    # delivery log keeps each; the sender logs a line per batch).
    bound.debug("notice sent", language=language)
    return Handled(notice, Result.SENT)


async def _send(
    claim: Claim, contact: Contact, outlets: Outlets, subject: str, body: str, now: datetime
) -> None:
    notice = claim.pending.notice
    if notice.channel is Channel.EMAIL:
        assert contact.email is not None
        await outlets.mailer.send(
            to=contact.email,
            subject=subject,
            body=body,
            message_id=message_id(notice),
            handing_over=claim.handing_over(now),
        )
    elif notice.channel is Channel.SMS:
        assert contact.phone is not None
        await outlets.texts.send(to=contact.phone, text=f"{subject}\n\n{body}")
    else:
        # The tag lets a browser replace a notice shown twice (a send after a crash).
        await outlets.push.send(to=contact.push, title=subject, body=body, tag=message_id(notice))


async def _retry_or_fail(
    claim: Claim,
    delivery: Delivery,
    now: datetime,
    error: str,
    bound: structlog.typing.FilteringBoundLogger,
) -> Result:
    attempts = claim.pending.attempts + 1
    if attempts >= delivery.max_attempts:
        await claim.failed(error)
        bound.warning("notice failed for good", error=error)
        return Result.FAILED
    await claim.retry(retry_at(now, attempts, delivery.retry_base_s), error)
    bound.info("notice will be tried again", error=error)
    return Result.RETRIED
