"""Notify's composition root: its database, consumer, sender and operators' API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import httpx
import structlog
from fastapi import FastAPI

from services.notify.adapters.contacts import BookingContacts, web_app_url
from services.notify.adapters.postgres import PostgresStore
from services.notify.adapters.push import WebPush, vapid_key
from services.notify.adapters.sms import TwilioTexts
from services.notify.adapters.smtp import SmtpMailer
from services.notify.adapters.templates import TemplateFolder
from services.notify.domain.notices import ReminderWindows
from services.notify.entrypoints.consumer import build_consumer
from services.notify.entrypoints.http import create_app
from services.notify.entrypoints.sender import Sender
from services.notify.service_layer.handlers import Delivery
from services.notify.service_layer.ports import (
    Contact,
    ContactBook,
    Mailer,
    Outlets,
    PushMessages,
    Templates,
    TextMessages,
)
from shared.lifecycle import finish_tasks
from shared.messaging import EventConsumer, Publisher
from shared.operator_access import OperatorAccess
from shared.postgres import apply_migrations, close_pool, connect_pool, ensure_database
from shared.secrets import configured_or_generated
from shared.settings import Settings

log = structlog.get_logger(__name__)

MIGRATIONS = "services.notify.migrations"


def windows_from(settings: Settings) -> ReminderWindows:
    """The reminder windows in settings."""
    return ReminderWindows(
        day_before=timedelta(hours=settings.notify_reminder_day_before_h),
        hour_before=timedelta(minutes=settings.notify_reminder_hour_before_min),
    )


def operators_contact(settings: Settings) -> Contact | None:
    """How notify reaches Kith's operators: ``operators_email``, if set."""
    if not settings.operators_email:
        return None
    return Contact(
        display_name="Kith operators",
        email=settings.operators_email,
        phone=None,
        languages=["en"],
        time_zone=settings.operators_time_zone,
    )


class NotifyService:
    """The running notify service; tests start it in-process against their own database.

    Args:
        settings: Kith settings (broker, SMTP server, windows, retries).
        database_url: Notify's database; defaults to ``settings.database_for("notify")``.
        group_id: The consumer group; tests pass a unique one.
        contacts: Where contact details come from; defaults to booking's internal API.
        mailer: How email is sent; defaults to the SMTP server in settings.
        texts: How text messages are sent; defaults to the SMS provider in settings.
        push: How web pushes are sent; defaults to the browsers' push services.
        booking_transport: How notify reaches booking's operators' API (tests pass booking's
            app through an ASGI transport).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str | None = None,
        group_id: str = "kith-notify",
        consumer_name: str = "notify",
        contacts: ContactBook | None = None,
        mailer: Mailer | None = None,
        texts: TextMessages | None = None,
        push: PushMessages | None = None,
        templates: Templates | None = None,
        booking_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._booking_transport = booking_transport
        self.settings = settings
        self.database_url = database_url or settings.database_for("notify")
        self.operator_token = configured_or_generated(
            settings, settings.operator_token, "operator-token"
        )
        self._group_id = group_id
        self._consumer_name = consumer_name
        self._contacts = contacts
        self._owned_contacts: BookingContacts | None = None
        self._mailer = mailer
        self._owned_mailer: SmtpMailer | None = None
        self._texts = texts
        self._owned_texts: TwilioTexts | None = None
        self._push = push
        self._owned_push: WebPush | None = None
        self._templates = templates or TemplateFolder()
        self._pool: asyncpg.Pool | None = None
        self._store: PostgresStore | None = None
        self._operators: OperatorAccess | None = None
        self._publisher: Publisher | None = None
        self._consumer: EventConsumer | None = None
        self._sender: Sender | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def store(self) -> PostgresStore:
        """The delivery log (once started)."""
        if self._store is None:
            raise RuntimeError("notify is not started")
        return self._store

    @property
    def sender(self) -> Sender:
        """The sender (once started)."""
        if self._sender is None:
            raise RuntimeError("notify is not started")
        return self._sender

    @property
    def pool(self) -> asyncpg.Pool:
        """Notify's connection pool (once started)."""
        if self._pool is None:
            raise RuntimeError("notify is not started")
        return self._pool

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The background tasks: consumer and sender."""
        return list(self._tasks)

    def app(self) -> FastAPI:
        """The operators' HTTP API."""
        if self._operators is None:
            raise RuntimeError("notify is not started")
        return create_app(self.store, self._operators)

    async def start(self) -> None:
        """Create and migrate the database, then start the consumer and the sender."""
        await ensure_database(self.database_url)
        self._pool = await connect_pool(self.database_url)
        await apply_migrations(self._pool, MIGRATIONS)
        self._store = PostgresStore(self._pool, self.settings.notify_lease_s)
        self._operators = OperatorAccess(
            self.settings, transport=self._booking_transport, service_key=self.operator_token
        )
        contacts: ContactBook
        if self._contacts is None:
            self._owned_contacts = BookingContacts(
                self.settings.booking_base_url(), self.operator_token
            )
            contacts = self._owned_contacts
        else:
            contacts = self._contacts
        mailer: Mailer
        if self._mailer is None:
            mailer = self._owned_mailer = SmtpMailer(self.settings)
        else:
            mailer = self._mailer
        texts: TextMessages
        if self._texts is None:
            texts = self._owned_texts = TwilioTexts(self.settings)
        else:
            texts = self._texts
        push: PushMessages
        if self._push is None:
            key = vapid_key(self.settings)
            push = self._owned_push = WebPush(key, self.settings.vapid_subject)
        else:
            push = self._push
        self._publisher = Publisher(self.settings, client_id="kith-notify")
        await self._publisher.start()
        wake = asyncio.Event()
        self._consumer = build_consumer(
            self.settings,
            store=self._store,
            wake=wake,
            dead_letters=self._publisher,
            name=self._consumer_name,
            group_id=self._group_id,
        )
        await self._consumer.start()
        self._sender = Sender(
            self._store,
            contacts,
            Outlets(mailer=mailer, texts=texts, push=push),
            self._templates,
            windows=windows_from(self.settings),
            delivery=Delivery(
                max_attempts=self.settings.notify_max_attempts,
                retry_base_s=self.settings.notify_retry_base_s,
                operators=operators_contact(self.settings),
                web_app_url=web_app_url(self.settings),
            ),
            every_s=self.settings.notify_poll_s,
            wake=wake,
            senders=self.settings.notify_senders,
            batch=self.settings.notify_batch,
        )
        self._tasks = [
            asyncio.create_task(self._consumer.run(), name="notify-consumer"),
            asyncio.create_task(self._sender.run(), name="notify-sender"),
        ]

    async def ready(self) -> None:
        """Return once the consumer has been assigned its partitions."""
        if self._consumer is None:
            raise RuntimeError("notify is not started")
        await self._consumer.ready.wait()

    async def stop(self) -> None:
        """Stop consuming and sending, finish what is in hand, and close everything."""
        if self._sender is not None:
            self._sender.stop()
        if self._consumer is not None:
            await self._consumer.stop()
        await finish_tasks(self._tasks)
        self._tasks = []
        if self._owned_contacts is not None:
            await self._owned_contacts.close()
        if self._owned_mailer is not None:
            await self._owned_mailer.close()
        if self._owned_texts is not None:
            await self._owned_texts.close()
        if self._owned_push is not None:
            await self._owned_push.close()
        if self._publisher is not None:
            await self._publisher.stop()
        if self._pool is not None:
            await close_pool(self._pool)
        if self._operators is not None:
            await self._operators.close()
        self._pool = self._store = self._publisher = self._consumer = self._sender = None
        self._operators = None
        self._owned_contacts = None
        self._owned_mailer = None
        self._owned_texts = None
        self._owned_push = None
