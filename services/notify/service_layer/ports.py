"""What notify's use cases need from the world: its store, booking's contacts, the channels'
transports, and the templates."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.notify.domain.notices import Notice, Visit
from shared.notifications import NotificationPreferences


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """One browser's web-push subscription, kept by booking and asked for with the contact."""

    endpoint: str
    p256dh: str
    auth: str

    def __repr__(self) -> str:
        # An endpoint identifies a device: never in a log.
        return "PushSubscription(<redacted>)"


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    """The person someone named to be told when they do not answer the door for a visit."""

    name: str
    email: str | None
    phone: str | None

    def __repr__(self) -> str:
        return "EmergencyContact(<redacted>)"


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach one person, asked of booking when a notice is sent and never kept."""

    display_name: str
    email: str | None
    phone: str | None
    languages: list[str]
    time_zone: str
    preferences: NotificationPreferences = field(default_factory=NotificationPreferences)
    push: list[PushSubscription] = field(default_factory=list)
    emergency: EmergencyContact | None = None
    #: Whom a notice to this contact is about, when it is not them (a welfare check).
    about: str | None = None

    def __repr__(self) -> str:
        # An address must never reach a log, even through an error's repr.
        return "Contact(<redacted>)"


class ContactUnavailable(Exception):
    """Booking could not be asked (down, slow): the notice is tried again later."""


class LinkGone(Exception):
    """A link's token cannot be had: it was used, has expired, or its person was erased."""


class ContactBook(Protocol):
    """Booking's internal contact API."""

    async def contacts(self, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Contact]:
        """The contact details of each of ``person_ids`` booking has; one left out has no
        such person (erased): there is nobody to tell.

        Raises:
            ContactUnavailable: booking did not answer.
        """

    async def link_token(self, link_id: uuid.UUID) -> str:
        """The token of an account link, minted by booking for this send (each token is
        handed out once; asked again, booking mints another and the first stops working).
        Put in the message and nowhere else: never logged, never stored.

        Raises:
            LinkGone: used, expired, or nobody's any more: there is nothing to send.
            ContactUnavailable: booking did not answer.
        """


class SendFailed(Exception):
    """The channel refused or could not take the message; the notice is tried again, unless
    the refusal is ``permanent`` (a number the provider will never take): then it becomes an
    operator's task at once."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


#: Commits a notice's record as sent; awaited right behind the write that hands its message
#: over, so that both leave the process in one step (see ``Mailer.send``).
Commit = Callable[[], Awaitable[None]]

#: A notice's record as its message is handed over (see ``Claim.handing_over``).
HandOver = AbstractAsyncContextManager[Commit]


class Mailer(Protocol):
    """An SMTP server."""

    async def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        message_id: str,
        handing_over: HandOver,
    ) -> None:
        """Hand one plain-text email to the server, recording it as sent as it goes.

        A server keeps nothing of a message whose connection closed before its end-of-data
        line (RFC 5321, 4.1.1.4). So ``handing_over`` is entered once the server holds the
        rest of the message (the notice recorded as sent, uncommitted), and its ``Commit`` is
        awaited right after that line is written: the line and the commit leave the process
        in one step, with no other task between them. A notify process killed before that
        step sends the notice again to a server that kept nothing; killed after it, it
        neither sends it again nor loses it. An error ``handing_over`` raises is raised as it
        is, and the server drops the message.

        Raises:
            SendFailed: it was not accepted (or the connection broke after the end-of-data
                line, when the server may have taken it: it is tried again, as SMTP expects).
        """


class TextMessages(Protocol):
    """An SMS provider."""

    async def send(self, *, to: str, text: str) -> None:
        """Hand one text message for ``to`` (a phone number as the person gave it) to the
        provider.

        Raises:
            SendFailed: it was not accepted.
        """


class PushMessages(Protocol):
    """The push services of the browsers a person subscribed."""

    async def send(
        self, *, to: Sequence[PushSubscription], title: str, body: str, tag: str
    ) -> None:
        """Push one message to each of ``to``; done when one of them accepted it.

        Raises:
            SendFailed: none accepted it (``permanent`` when every subscription is gone).
        """


@dataclass(frozen=True, slots=True)
class Outlets:
    """The channels' transports."""

    mailer: Mailer
    texts: TextMessages
    push: PushMessages


class Templates(Protocol):
    """The template folder: one subject and body per kind of notice and language."""

    @property
    def languages(self) -> frozenset[str]:
        """The languages with templates."""

    def render(self, language: str, kind: str, values: dict[str, str]) -> tuple[str, str]:
        """The subject and body of ``kind`` in ``language`` (English where it has none)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A notice due to be sent, with how often it was tried."""

    notice: Notice
    attempts: int


class Claim(Protocol):
    """One due notice, leased by this process until its outcome is written (others skip it);
    each outcome is recorded the moment it is given."""

    @property
    def pending(self) -> Pending:
        """The notice claimed."""

    def seconds_left(self) -> float:
        """How long a send may still take before another sender could take the notice."""

    async def sent(self, at: datetime) -> None:
        """It was sent."""

    def handing_over(self, at: datetime) -> HandOver:
        """It is being sent: recorded as sent at ``at``, uncommitted until the ``Commit``
        this yields is awaited; leaving without it takes the record back."""

    async def retry(self, at: datetime, error: str) -> None:
        """It failed this time; try again at ``at``."""

    async def deferred(self, until: datetime) -> None:
        """Not now (the person's quiet hours): due again at ``until``, no try counted."""

    async def failed(self, error: str) -> None:
        """It will not be sent: an operator must reach the person another way."""

    async def dropped(self, reason: str) -> None:
        """It no longer needs sending."""


class Batch(Protocol):
    """Due notices claimed together; those with no outcome when the batch ends are given
    back at once."""

    @property
    def claims(self) -> Sequence[Claim]:
        """The notices claimed (none when nothing is due)."""

    async def route(self, routes: Sequence[tuple[Claim, Sequence[Notice]]]) -> list[list[Claim]]:
        """For each claimed notice, record its ``notices`` (it on each of its channels) and
        mark it routed; return, for each, claims on those that were new, to be sent in this
        batch."""


class NotifyStore(Protocol):
    """Notify's own database: visits to remind of, and the delivery log."""

    async def add_notices(self, notices: Sequence[Notice]) -> int:
        """Record notices not yet recorded (same identity: ignored); return how many were new."""

    async def record_visit(self, visit: Visit) -> None:
        """Remember a booked visit (a second time changes nothing)."""

    async def end_visit(self, booking_id: uuid.UUID) -> None:
        """Forget a visit (cancelled or done) and drop its reminders not yet sent."""

    async def keep_visit(self, visit: Visit) -> None:
        """Remember a visit again that had ended (an operator kept a visit a suspension
        held): its reminders fall due as for any booked visit."""

    async def move_visit(self, booking_id: uuid.UUID, starts_at: datetime, hours: int) -> None:
        """A visit moved: drop its reminders not yet sent; new ones fall due at the new time."""

    async def visits_starting(self, after: datetime, before: datetime) -> list[Visit]:
        """Visits starting within ``(after, before]``."""

    async def remember_reopened(self, request_id: uuid.UUID) -> None:
        """A helper called off this request's visit and booking asked for it again."""

    async def reopened(self, request_id: uuid.UUID) -> bool:
        """Whether ``remember_reopened`` was told of this request."""

    async def remember_concern(self, concern_id: uuid.UUID, raised_by: uuid.UUID) -> None:
        """Who raised a concern (ids only), to tell them when it is closed."""

    async def concern_raiser(self, concern_id: uuid.UUID) -> uuid.UUID | None:
        """Who raised a concern, if a person did."""

    def claim_due(self, now: datetime, limit: int) -> AbstractAsyncContextManager[Batch]:
        """Up to ``limit`` of the earliest notices due at ``now`` that no other process holds,
        held until the batch ends."""
