"""What a notice is, when reminders fall due, and how long a failed one waits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum


class Kind(StrEnum):
    """What a notice says; each has a template of the same name in every language."""

    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_RESCHEDULED = "booking_rescheduled"
    OFFER_RECEIVED = "offer_received"
    CHECKIN_QUESTION = "checkin_question"
    VETTING_OUTCOME = "vetting_outcome"
    REMINDER_DAY_BEFORE = "reminder_day_before"
    REMINDER_HOUR_BEFORE = "reminder_hour_before"
    BOOKING_REOFFERED = "booking_reoffered"
    CONCERN_CLOSED = "concern_closed"
    #: A visit a suspension held goes ahead after all, as booked: to both sides.
    BOOKING_KEPT = "booking_kept"
    #: The other side of a visit proposed a new time: to confirm or decline in the app.
    RESCHEDULE_PROPOSED = "reschedule_proposed"
    #: A link to verify the person's email (``account.link_requested``).
    VERIFY_EMAIL = "verify_email"
    #: A link to reset the person's password.
    RESET_PASSWORD = "reset_password"
    #: Welcome to someone an operator registered, with a link to choose a password.
    WELCOME = "welcome"
    #: A neighbour did not answer the door: to the emergency contact they named.
    WELFARE_CHECK = "welfare_check"
    #: The same, to Kith's operators (``OPERATORS``).
    WELFARE_CHECK_OPERATORS = "welfare_check_operators"


#: The recipient of notices to Kith's operators (their address is in notify's settings).
OPERATORS = uuid.UUID(int=0)

#: Welfare checks are about someone's safety: sent in quiet hours, never turned off.
WELFARE = frozenset({Kind.WELFARE_CHECK, Kind.WELFARE_CHECK_OPERATORS})

#: Links to an account's own email, or its own phone when it has no email: never on another
#: channel (the address is what is verified, and a reset goes where the account's owner
#: reads), in quiet hours too (someone is waiting at a screen for it and a link expires),
#: and never turned off (nobody else asks for them).
LINKS = frozenset({Kind.VERIFY_EMAIL, Kind.RESET_PASSWORD, Kind.WELCOME})

#: The links that go by text message to a person with a phone and no email (an email's
#: verification link has nothing to verify without one).
TEXTED_LINKS = frozenset({Kind.RESET_PASSWORD, Kind.WELCOME})

#: Reminders are dropped when their visit is cancelled or moved.
REMINDERS = frozenset({Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_HOUR_BEFORE})


class Channel(StrEnum):
    """How a notice reaches a person."""

    #: Not chosen yet: when the notice falls due, the person's contact details and
    #: preferences decide its channels, and it becomes one notice per channel.
    ANY = "any"
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class Status(StrEnum):
    """Where a notice is in its delivery."""

    PENDING = "pending"
    SENT = "sent"
    #: Tried ``max_attempts`` times, or no way to reach the person: an operator task.
    FAILED = "failed"
    #: No longer true (its visit was cancelled or moved) or nobody to tell (erased).
    DROPPED = "dropped"
    #: A notice on ``Channel.ANY`` that became one notice per channel chosen.
    ROUTED = "routed"


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell one person on one channel.

    ``(event_id, person_id, channel, kind)`` is its identity: recording it twice (an event
    delivered again) records it once, so it is sent once. It is recorded on ``Channel.ANY``
    and routed when due into the same notice on each channel the person is reached on.
    ``params`` hold no personal data: ids, a skill, times; the person's name and address are
    asked for when it is sent.
    """

    event_id: uuid.UUID
    person_id: uuid.UUID
    kind: Kind
    due_at: datetime
    params: dict[str, str] = field(default_factory=dict)
    channel: Channel = Channel.ANY

    def on(self, channel: Channel, due_at: datetime) -> Notice:
        """The same notice on ``channel``, due at ``due_at``."""
        return Notice(self.event_id, self.person_id, self.kind, due_at, self.params, channel)


@dataclass(frozen=True, slots=True)
class Visit:
    """A booked visit notify will remind both sides of."""

    booking_id: uuid.UUID
    helper_id: uuid.UUID
    neighbour_id: uuid.UUID
    skill: str
    starts_at: datetime
    hours: int

    def params(self) -> dict[str, str]:
        """What the templates say of the visit."""
        return {
            "booking_id": str(self.booking_id),
            "skill": self.skill,
            "starts_at": self.starts_at.isoformat(),
            "hours": str(self.hours),
        }

    def to_both(self, event_id: uuid.UUID, kind: Kind, due_at: datetime) -> list[Notice]:
        """The same notice to the helper and to the neighbour."""
        return [
            Notice(event_id, person, kind, due_at, self.params())
            for person in (self.helper_id, self.neighbour_id)
        ]


@dataclass(frozen=True, slots=True)
class ReminderWindows:
    """How long before a visit each reminder goes."""

    day_before: timedelta
    hour_before: timedelta


_REMINDER_IDS = uuid.UUID("6f1c2a8e-6c52-4f0e-9a57-0d3c1f6b1a11")


def reminder_id(visit: Visit, kind: Kind) -> uuid.UUID:
    """The stable id of a visit's reminder: the same visit at the same time always has the
    same one, so each sweep that finds it due records it once; a moved visit gets new ones."""
    return uuid.uuid5(_REMINDER_IDS, f"{visit.booking_id}/{visit.starts_at.isoformat()}/{kind}")


def reminders_due(visit: Visit, now: datetime, windows: ReminderWindows) -> list[Notice]:
    """The reminders of ``visit`` that are due at ``now``, to both sides.

    Only the latest window that has opened: a visit booked (or a clock moved) inside the last
    hour gets the hour's reminder, not the day's as well. Nothing once the visit has begun.
    """
    if now >= visit.starts_at:
        return []
    if now >= visit.starts_at - windows.hour_before:
        kind = Kind.REMINDER_HOUR_BEFORE
    elif now >= visit.starts_at - windows.day_before:
        kind = Kind.REMINDER_DAY_BEFORE
    else:
        return []
    return visit.to_both(reminder_id(visit, kind), kind, now)


def retry_at(now: datetime, attempts: int, base_s: float, cap_s: float = 3600.0) -> datetime:
    """When a notice that failed ``attempts`` times is tried again: doubling from ``base_s``."""
    return now + timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), cap_s))


def quiet_until(local_now: datetime, start: time, end: time) -> datetime | None:
    """When the quiet hours ``start``-``end`` around ``local_now`` end, or ``None`` when
    ``local_now`` is outside them. Times are the person's own (``local_now`` in their zone);
    ``start`` after ``end`` spans midnight."""
    now_t = local_now.time().replace(tzinfo=None)
    # A span that crosses midnight is the two ends of the day.
    inside = (start <= now_t < end) if start < end else (now_t >= start or now_t < end)
    if not inside:
        return None
    ends = local_now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local_now:
        ends += timedelta(days=1)
    return ends
