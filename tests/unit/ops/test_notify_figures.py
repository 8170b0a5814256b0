"""The console's poll of notify leaves no connection open between two asks."""

from __future__ import annotations

import asyncio
import json

from services.ops.adapters.notify_figures import NotifyFigures

_SUMMARY = {"channels": {"email": {"sent": 3, "failed": 1}}, "open_tasks": 2}


async def test_each_ask_closes_its_connection_so_notify_sleeps_between_polls() -> None:
    # A keep-alive connection held open between polls keeps notify's HTTP server ticking
    # (``IdleServer`` wakes once a second while anyone is connected).
    closed = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = json.dumps(_SUMMARY).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        # The server keeps the connection open for as long as the client does.
        await reader.read()
        closed.set()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    figures = NotifyFigures(f"http://127.0.0.1:{port}", "token")
    try:
        await figures.refresh()
        assert figures.latest == {
            "channels": {"email": {"sent": 3, "failed": 1, "retried": 0, "pending": 0}},
            "open_tasks": 2,
        }
        await asyncio.wait_for(closed.wait(), timeout=3.0)
    finally:
        await figures.close()
        server.close()
        await server.wait_closed()
