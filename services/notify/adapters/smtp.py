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
from typing import Literal

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from aiosmtplib.typing import Default, SMTPStatus

from services.notify.service_layer.ports import HandOver, SendFailed
from shared.settings import Settings

#: A server that has not answered in this long is taken as down; the notice is retried.
_TIMEOUT_S = 15.0

_END_OF_DATA = b".\r\n"


class HandOverConnection(aiosmtplib.SMTP):
    """An SMTP connection whose DATA enters the send's ``handing_over`` before the
    end-of-data line, the one moment that decides whether the server keeps the message, and
    commits it right behind that line."""

    handing_over: HandOver | None = None
    #: The end-of-data line was written: the server may hold the message from here on.
    ended = False
    #: What ``handing_over`` raised, to be raised as it is rather than as a failed send.
    refused: BaseException | None = None

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        # aiosmtplib's own signature, overridden.
        timeout: float | Literal[Default.token] | None = Default.token,  # noqa: ASYNC109
    ) -> aiosmtplib.SMTPResponse:
        handing_over, self.handing_over = self.handing_over, None
        if handing_over is None:
            return await super().data(message, timeout=timeout)
        wait = self.timeout if timeout is Default.token else timeout
        content = message.encode("ascii") if isinstance(message, str) else message
        started = await self.execute_command(b"DATA", timeout=wait)
        if started.code != SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(started.code, started.message)
        protocol = self.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        # The same bytes aiosmtplib's own DATA sends, less the end-of-data line.
        protocol.write(PERIOD_REGEX.sub(b"..", normalize_message_line_endings(content)))
        try:
            async with handing_over as commit:
                # Listening for the answer before the line that brings it: the reader's first
                # step runs before this task's next (the loop runs ready steps in order), and
                # an answer that came in before it would be dropped as unasked for.
                answer = asyncio.ensure_future(protocol.read_response(timeout=wait))
                try:
                    await asyncio.sleep(0)
                    protocol.write(_END_OF_DATA)
                    self.ended = True
                    await commit()
                except BaseException:
                    answer.cancel()
                    raise
        except BaseException as error:
            # The record failed. Before the end-of-data line, closing makes the server keep
            # nothing; after it (the commit failed), the message may be kept but is not on
            # record, and the notice is sent again: SMTP's doubt, on a database's failure.
            self.refused = error
            self.close()
            raise
        try:
            response = await answer
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
            self.close()
            raise
        if response.code != SMTPStatus.completed:
            raise aiosmtplib.SMTPDataError(response.code, response.message)
        return response

    async def send_over(self, message: EmailMessage, handing_over: HandOver) -> None:
        """Send ``message``, handing it over through ``handing_over``."""
        self.handing_over, self.ended, self.refused = handing_over, False, None
        try:
            await self.send_message(message)
        finally:
            self.handing_over = None


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
        self._idle: list[HandOverConnection] = []
        # A few connections, each carrying one message after another, beat one per message
        # in flight: the server (and notify's CPU) spends less on handshakes.
        self._open = asyncio.Semaphore(settings.smtp_connections)

    async def _connection(self) -> HandOverConnection:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        client = HandOverConnection(
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

    async def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        message_id: str,
        handing_over: HandOver,
    ) -> None:
        if not self._host:
            raise SendFailed("no SMTP server is set (KITH_SMTP_HOST)")
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id
        message.set_content(body)
        async with self._open:
            await self._send(message, handing_over)

    async def _send(self, message: EmailMessage, handing_over: HandOver) -> None:
        client: HandOverConnection | None = None
        try:
            client = await self._connection()
            try:
                await client.send_over(message, handing_over)
            except aiosmtplib.SMTPServerDisconnected:
                if client.ended or client.refused is not None:
                    raise
                # An idle connection the server had closed: nothing was sent on it.
                self._discard(client)
                client = await self._connection()
                await client.send_over(message, handing_over)
        except aiosmtplib.SMTPResponseException as error:
            self._discard(client)
            # The code only: the server's text may repeat the recipient's address.
            raise SendFailed(f"the server answered {error.code}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            self._discard(client)
            if client is not None and error is client.refused:
                raise
            raise SendFailed(type(error).__name__) from None
        except BaseException:
            self._discard(client)
            raise
        self._idle.append(client)

    @staticmethod
    def _discard(client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            client.close()
