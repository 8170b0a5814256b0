"""What booking and notify agree on about notices: their kinds, channels, and a person's
notification preferences (kept by booking, read by notify with the contact details).

Not an event: preferences never travel on a topic.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

_HOUR = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class NoticeKind(StrEnum):
    """What a notice is about."""

    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_RESCHEDULED = "booking_rescheduled"
    OFFER_RECEIVED = "offer_received"
    CHECKIN_QUESTION = "checkin_question"
    VETTING_OUTCOME = "vetting_outcome"
    REMINDER_DAY_BEFORE = "reminder_day_before"
    REMINDER_HOUR_BEFORE = "reminder_hour_before"
    #: A helper called a visit off and Kith found someone else: to the neighbour.
    BOOKING_REOFFERED = "booking_reoffered"
    #: A concern someone raised was looked at and closed: to them, without its outcome.
    CONCERN_CLOSED = "concern_closed"
    #: The other side of a visit proposed a new time for it.
    RESCHEDULE_PROPOSED = "reschedule_proposed"
    #: A visit Kith called off goes ahead after all, as booked: to both sides.
    BOOKING_KEPT = "booking_kept"


#: Notices about someone's safety: a visit somebody waits for will not happen. They are sent
#: in quiet hours too, and cannot be turned off.
SAFETY_KINDS = frozenset({NoticeKind.BOOKING_CANCELLED})


class NoticeChannel(StrEnum):
    """How a notice reaches a person."""

    EMAIL = "email"
    #: A text message to the person's phone: everything goes this way for someone who gave a
    #: phone and no email.
    SMS = "sms"
    #: A web-push message to each browser the person subscribed (booking keeps them).
    PUSH = "push"


class QuietHours(BaseModel):
    """Local hours (in the person's own time zone) when only safety notices are sent; the
    others wait until ``end``. ``start`` after ``end`` spans midnight (``22:00``-``07:30``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str = Field(pattern=_HOUR, max_length=5, examples=["22:00"])
    end: str = Field(pattern=_HOUR, max_length=5, examples=["07:30"])

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("quiet hours need a start and an end that differ")
        return self


class NotificationPreferences(BaseModel):
    """A person's choices: channels per kind, quiet hours, language.

    Attributes:
        channels: For each kind, the channels it is sent on; a kind left out is sent on
            every channel, an empty list turns it off (not allowed for safety kinds).
        quiet_hours: When only safety notices are sent, or ``None``.
        language: The language of notices (a tag such as ``cy``), or ``None`` for the first
            of the profile's languages that has templates.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: dict[NoticeKind, Annotated[list[NoticeChannel], Field(max_length=8)]] = Field(
        default_factory=dict, max_length=len(NoticeKind)
    )
    quiet_hours: QuietHours | None = None
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", max_length=16
    )

    @model_validator(mode="after")
    def _safety_stays_on(self) -> Self:
        for kind in SAFETY_KINDS:
            if kind in self.channels and not self.channels[kind]:
                raise ValueError(f"{kind} is a safety notice and cannot be turned off")
        return self

    def sends(self, kind: str, channel: str) -> bool:
        """Whether ``kind`` goes out on ``channel``."""
        if kind in SAFETY_KINDS:
            return True
        chosen = self.channels.get(NoticeKind(kind))
        return chosen is None or channel in chosen
