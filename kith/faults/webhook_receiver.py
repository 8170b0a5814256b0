"""A partner's webhook endpoint for ``kith faults``: a small HTTP server that records every
request it is sent and answers 200.

Written on asyncio streams rather than a web framework: it only has to read a request line,
headers and a ``Content-Length`` body, on connections the sender may keep open.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

#: The request line and headers of one webhook may not be longer than this.
_HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Delivery:
    """One request received: its path, headers (lower-case names) and body."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """Where webhooks arrive (``url``) and what arrived (``deliveries``)."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > _HEAD_LIMIT:
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1] if " " in lines[0] else "/"
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.deliveries.append(Delivery(path, headers, body))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return  # the sender closed the connection (or died): nothing more to read
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[WebhookReceiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = WebhookReceiver()
    server = await asyncio.start_server(receiver._serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), timeout=5)
