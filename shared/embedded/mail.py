"""The development mail server ``kith up`` runs: an SMTP server (aiosmtpd) that keeps every
message it receives as a file, and a small inbox page that shows them.

The inbox page also answers an SMS provider's request (Twilio's Messages API,
``POST /2010-04-01/Accounts/{sid}/Messages.json``) and keeps each text message beside the
emails, so that the same page shows every email and text Kith sent.

Nothing leaves the machine: it accepts mail for any address and delivers none. Point Kith at
a real server with ``KITH_SMTP_HOST`` (and the other ``KITH_SMTP_*`` settings), and at a real
SMS provider with ``KITH_SMS_*``, instead.
"""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.embedded.ports import free_port, require_free
from shared.http_thread import serve_in_thread, stop_serving


def read_mailbox(folder: Path) -> list[EmailMessage]:
    """Every message kept in ``folder``, oldest first."""
    parser = BytesParser(policy=policy.default)
    messages: list[EmailMessage] = []
    for path in sorted(folder.glob("*.eml")):
        message = parser.parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def read_texts(folder: Path) -> list[dict[str, str]]:
    """Every text message kept in ``folder`` (``to``, ``from``, ``body``), oldest first."""
    texts: list[dict[str, str]] = []
    for path in sorted((folder / "sms").glob("*.json")):
        texts.append(json.loads(path.read_text(encoding="utf-8")))
    return texts


def _keep_text(folder: Path, text: dict[str, str]) -> str:
    sms = folder / "sms"
    sms.mkdir(exist_ok=True)
    sid = f"SM{uuid.uuid4().hex}"
    name = f"{time.time_ns():020d}-{sid[2:10]}.json"
    partial = sms / f".{name}.part"
    partial.write_text(json.dumps({**text, "sid": sid}), encoding="utf-8")
    partial.rename(sms / name)  # whole or absent, for readers of the folder
    return sid


def subject(message: EmailMessage) -> str:
    """A message's subject on one line (a long one arrives folded)."""
    return " ".join(str(message.get("Subject", "")).split())


def summary(message: EmailMessage) -> dict[str, str]:
    """A message's headers and plain-text body, for the inbox page and its JSON."""
    body = message.get_body(preferencelist=("plain",))
    return {
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")),
        "subject": subject(message),
        "date": str(message.get("Date", "")),
        "message_id": str(message.get("Message-ID", "")),
        "body": body.get_content() if body is not None else "",
    }


class _Keeper:
    """aiosmtpd's handler: each message to a file named so that names sort by arrival."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    async def handle_DATA(  # noqa: N802  # the hook aiosmtpd calls
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        partial = self._folder / f".{name}.part"
        partial.write_bytes(content)
        partial.rename(self._folder / name)  # whole or absent, for readers of the folder
        return "250 Message accepted for delivery"


def _page(folder: Path) -> str:
    rows = []
    for message in reversed(read_mailbox(folder)):
        fields = {key: html.escape(value) for key, value in summary(message).items()}
        rows.append(
            f"<article><h2>{fields['subject']}</h2>"
            f"<p>To: {fields['to']}<br>From: {fields['from']}<br>{fields['date']}</p>"
            f"<pre>{fields['body']}</pre></article>"
        )
    listing = "\n".join(rows) or "<p>No email yet.</p>"
    texts = [
        f"<article><h3>Text to {html.escape(text.get('to', ''))}</h3>"
        f"<pre>{html.escape(text.get('body', ''))}</pre></article>"
        for text in reversed(read_texts(folder))
    ]
    texting = "\n".join(texts) or "<p>No text message yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='refresh' content='5'><title>Kith development inbox</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:auto}"
        "article{border-bottom:1px solid #ccc}pre{white-space:pre-wrap}</style></head>"
        "<body><h1>Kith development inbox</h1>"
        "<p>Every email and text message Kith sent, newest first.</p>"
        f"<h2>Text messages</h2>{texting}<h2>Emails</h2>{listing}</body></html>"
    )


def _inbox_handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Inbox(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/texts.json"):
                self._send(200, "application/json", json.dumps(read_texts(folder)).encode())
            elif self.path.startswith("/messages.json"):
                payload: Any = [summary(message) for message in read_mailbox(folder)]
                self._send(200, "application/json", json.dumps(payload).encode())
            elif self.path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", _page(folder).encode())
            else:
                self._send(404, "text/plain", b"not found")

        def do_POST(self) -> None:
            # The SMS provider's Messages API, as much of it as Kith uses: a form with To,
            # From (or MessagingServiceSid) and Body; 201 with the message's sid.
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            if len(parts) != 4 or parts[0] != "2010-04-01" or parts[3] != "Messages.json":
                self._send(404, "application/json", b'{"code": 20404, "status": 404}')
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("utf-8"))
            to, body = form.get("To", [""])[0], form.get("Body", [""])[0]
            sender = (form.get("From") or form.get("MessagingServiceSid") or [""])[0]
            if not to or not body or not sender:
                self._send(400, "application/json", b'{"code": 21604, "status": 400}')
                return
            sid = _keep_text(folder, {"to": to, "from": sender, "body": body})
            answer = {"sid": sid, "status": "queued", "to": to}
            self._send(201, "application/json", json.dumps(answer).encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: kith up's terminal shows the services' logs, not each page view.
            return

    return Inbox


class DevMailServer:
    """An SMTP server on ``smtp_port`` and an inbox page on ``inbox_port`` (0: any free one),
    keeping messages in ``folder``."""

    def __init__(self, folder: Path, *, host: str, smtp_port: int = 0, inbox_port: int = 0) -> None:
        self.folder = folder
        self.host = host
        self.smtp_port = smtp_port
        self.inbox_port = inbox_port
        self._controller: Controller | None = None
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def inbox_url(self) -> str:
        """The inbox page."""
        return f"http://{self.host}:{self.inbox_port}/"

    def start(self) -> None:
        """Listen on both ports; ``PortInUse`` when a fixed one is taken."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.inbox_port:
            require_free(self.host, self.inbox_port, "the development inbox page")
        else:
            self.inbox_port = free_port(self.host)
        if self.smtp_port:
            require_free(self.host, self.smtp_port, "the development mail server")
        else:
            self.smtp_port = free_port(self.host)
        self._controller = Controller(
            _Keeper(self.folder), hostname=self.host, port=self.smtp_port, ready_timeout=10
        )
        self._controller.start()
        self._http = ThreadingHTTPServer((self.host, self.inbox_port), _inbox_handler(self.folder))
        self._thread = serve_in_thread(self._http, "kith-dev-inbox")

    def stop(self) -> None:
        """Stop both servers; the messages stay in the folder."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._http is not None and self._thread is not None:
            stop_serving(self._http, self._thread)
        self._http = None
        self._thread = None
