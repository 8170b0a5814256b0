"""Notify in-process on its own database, sending through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Collection, Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from py_vapid import Vapid

from services.notify.adapters.push import WebPush
from services.notify.bootstrap import NotifyService
from services.notify.service_layer.ports import (
    Contact,
    EmergencyContact,
    LinkGone,
    PushSubscription,
)
from shared.embedded.mail import DevMailServer, read_mailbox, read_texts
from shared.messaging import Publisher
from shared.notifications import NotificationPreferences
from tests.conftest import Stack

OPERATORS_EMAIL = "coordinators@example.org"


class Contacts:
    """Booking's contact API as notify sees it, in memory (booking's own test covers the
    endpoint; the e2e test covers the two together)."""

    def __init__(self) -> None:
        self.people: dict[uuid.UUID, Contact] = {}
        self.tokens: dict[uuid.UUID, str] = {}

    def token_for(self, link_id: uuid.UUID) -> str:
        """The token booking will hand out for ``link_id`` (a link with none is gone)."""
        self.tokens[link_id] = secrets.token_urlsafe(32)
        return self.tokens[link_id]

    async def link_token(self, link_id: uuid.UUID) -> str:
        if link_id not in self.tokens:
            raise LinkGone("booking answered 409")
        return self.tokens[link_id]

    def add(
        self,
        name: str,
        *,
        languages: list[str] | None = None,
        email: bool = True,
        phone: str | None = None,
        preferences: NotificationPreferences | None = None,
        push: list[PushSubscription] | None = None,
        emergency: EmergencyContact | None = None,
    ) -> uuid.UUID:
        person_id = uuid.uuid4()
        self.people[person_id] = Contact(
            display_name=name,
            email=f"{name.lower()}-{person_id.hex[:8]}@example.org" if email else None,
            phone=phone,
            languages=languages or ["en"],
            time_zone="Europe/London",
            preferences=preferences or NotificationPreferences(),
            push=push or [],
            emergency=emergency,
        )
        return person_id

    def email(self, person_id: uuid.UUID) -> str:
        address = self.people[person_id].email
        assert address is not None
        return address

    async def contacts(self, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Contact]:
        return {p: self.people[p] for p in person_ids if p in self.people}


class Mailbox:
    """What the SMTP server received."""

    def __init__(self, server: DevMailServer) -> None:
        self.server = server

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in read_mailbox(self.server.folder) if m["To"] == address]

    def texts_to(self, phone: str) -> list[str]:
        return [t["body"] for t in read_texts(self.server.folder) if t["to"] == phone]


def fresh_database(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/kith_notify_{uuid.uuid4().hex[:12]}"))


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevMailServer]:
    server = DevMailServer(tmp_path_factory.mktemp("mail"), host="127.0.0.1")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def mailbox(mail_server: DevMailServer) -> Mailbox:
    return Mailbox(mail_server)


@pytest.fixture(scope="module")
def contacts() -> Contacts:
    return Contacts()


class PushService:
    """Stands in for the browsers' push services at the HTTP boundary: keeps each request."""

    def __init__(self) -> None:
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return httpx.Response(201)

    def to(self, endpoint: str) -> list[httpx.Request]:
        return [request for request in self.received if str(request.url) == endpoint]


@pytest.fixture(scope="module")
def push_service() -> PushService:
    return PushService()


@pytest.fixture(scope="module")
async def notify(
    stack: Stack, mail_server: DevMailServer, contacts: Contacts, push_service: PushService
) -> AsyncIterator[NotifyService]:
    vapid = Vapid()
    vapid.generate_keys()
    service = NotifyService(
        stack.settings(
            smtp_host=mail_server.host,
            smtp_port=mail_server.smtp_port,
            # Text messages through the provider adapter to the development inbox's stand-in
            # for the provider's API, over real HTTP.
            sms_api_url=mail_server.inbox_url.rstrip("/"),
            sms_account_sid="ACtest",
            sms_auth_token="test",
            sms_from="Kith",
            operators_email=OPERATORS_EMAIL,
            notify_poll_s=3600,  # woken by events; reminder tests run the sender themselves
        ),
        database_url=fresh_database(stack.database_url),
        group_id=f"test-notify-{uuid.uuid4()}",
        contacts=contacts,
        push=WebPush(vapid, "mailto:ops@example.org", transport=httpx.MockTransport(push_service)),
    )
    await service.start()
    try:
        await asyncio.wait_for(service.ready(), timeout=30)
        yield service
    finally:
        await service.stop()


@pytest.fixture(scope="module")
async def publisher(stack: Stack) -> AsyncIterator[Publisher]:
    sender = Publisher(stack.settings(), client_id="test-notify-sender")
    await sender.start()
    try:
        yield sender
    finally:
        await sender.stop()


def clock_file(tmp_path: Path) -> Path:
    return tmp_path / "clock"
