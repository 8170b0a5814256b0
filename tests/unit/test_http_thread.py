"""A server on a thread of its own sleeps until someone connects and stops when asked."""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shared.http_thread import serve_in_thread, stop_serving


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet in the test output."""


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """Every timeout the serving loop's ``select`` is given."""
    seen: list[float | None] = []

    class Recording(selectors.PollSelector):
        def select(self, timeout: float | None = None) -> Any:
            seen.append(timeout)
            return super().select(timeout)

    monkeypatch.setattr(socketserver, "_ServerSelector", Recording)
    return seen


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_server_waits_for_a_connection_without_a_timeout_and_stops_when_asked(
    waits: list[float | None], host: str
) -> None:
    server = ThreadingHTTPServer((host, 0), _Hello)
    port = server.server_address[1]
    thread = serve_in_thread(server, "test-http-thread")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.read() == b"hello"
    finally:
        stop_serving(server, thread, timeout_s=5)

    assert not thread.is_alive(), "the serving thread ended"
    assert waits, "the loop selected at least once"
    assert set(waits) == {None}, "the loop never woke by itself to look for a stop"
    with socket.socket() as again:
        # As a server binds (the port's closed connections may linger in TIME_WAIT).
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind((host, port))
        again.listen()  # the port is free again


def test_stopping_a_server_that_is_serving_nobody_returns_at_once() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = serve_in_thread(server, "test-http-thread")
    stop_serving(server, thread, timeout_s=5)
    assert not thread.is_alive()


def test_stopping_a_server_whose_thread_is_not_running_frees_its_port_without_waiting() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    port = server.server_address[1]
    never_served = threading.Thread(target=server.serve_forever, name="test-never")
    stop_serving(server, never_served, timeout_s=5)
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the port is free again
    assert not any(t.name == "test-never-stop" for t in threading.enumerate()), (
        "no helper left waiting for a loop that never ran"
    )
