"""Email over SMTP with aiosmtplib: STARTTLS or TLS, login when a user name is set, and
connections kept open between messages.

Opening a connection (TCP, EHLO, STARTTLS, AUTH) costs more than sending one message on it;
each send takes an idle connection or opens one, and puts it back after a message the server
accepted; at most ``smtp_connections`` are open at once. A connection that failed is closed,
never reused: the notice is tried again on a fresh one."""

from __future__ import annotations

import asyncio
import contextlib
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.notify.service_layer.ports import SendFailed
from shared.settings import Settings

#: A server that has not answered in this long is taken as down; the notice is retried.
_TIMEOUT_S = 15.0


class SmtpMailer:
    """``Mailer`` through the SMTP server in settings."""

    def __init__(self, settings: Settings) -> None:
        # Unset, every email fails (and, after its retries, becomes an operator's task) rather
        # than notify refusing to start: the other channels and the log still work.
        self._host = settings.smtp_host
        self._port = settings.smtp_port
        self._username = settings.smtp_username or None  # empty in a compose file: none
        self._password = (
            settings.smtp_password.get_secret_value() or None if settings.smtp_password else None
        )
        self._starttls = settings.smtp_starttls
        self._tls = settings.smtp_tls
        self._sender = settings.mail_from
        self._idle: list[aiosmtplib.SMTP] = []
        # A few connections, each carrying one message after another, beat one per message
        # in flight: the server (and notify's CPU) spends less on handshakes.
        self._open = asyncio.Semaphore(settings.smtp_connections)

    async def _connection(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._tls,
            start_tls=self._starttls,
            timeout=_TIMEOUT_S,
        )
        await client.connect()
        return client

    async def close(self) -> None:
        """Say goodbye on every idle connection."""
        while self._idle:
            client = self._idle.pop()
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()

    async def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        async with self._open:
            await self._send(to=to, subject=subject, body=body, message_id=message_id)

    async def _send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        if not self._host:
            raise SendFailed("no SMTP server is set (KITH_SMTP_HOST)")
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id
        message.set_content(body)
        client: aiosmtplib.SMTP | None = None
        try:
            client = await self._connection()
            try:
                await client.send_message(message)
            except aiosmtplib.SMTPServerDisconnected:
                # An idle connection the server had closed: nothing was sent on it.
                self._discard(client)
                client = await self._connection()
                await client.send_message(message)
        except aiosmtplib.SMTPResponseException as error:
            self._discard(client)
            # The code only: the server's text may repeat the recipient's address.
            raise SendFailed(f"the server answered {error.code}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            self._discard(client)
            raise SendFailed(type(error).__name__) from None
        self._idle.append(client)

    @staticmethod
    def _discard(client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            client.close()
