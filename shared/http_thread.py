"""A standard-library HTTP server on a daemon thread that sleeps until someone connects.

``socketserver``'s ``serve_forever`` wakes every half second to look whether it was asked to
stop. An idle ``kith up`` runs nine such servers (each service's ``/metrics``, ``kith up``'s
own, the development inbox page): eighteen wake-ups a second, each taking the interpreter's
lock, for nothing. Here the thread waits in ``select`` with no timeout, and ``stop_serving``
wakes it by connecting once it has asked it to stop.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from typing import Any

__all__ = ["serve_in_thread", "stop_serving"]


def serve_in_thread(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Serve ``server`` on a daemon thread (a process that forgets to stop it still exits)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": None}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(
    server: socketserver.TCPServer, thread: threading.Thread, *, timeout_s: float = 5.0
) -> None:
    """Stop the server ``serve_in_thread`` started and free its port.

    ``shutdown`` only raises a flag the serving loop reads when ``select`` returns, so the
    flag is raised from a helper thread (``shutdown`` also waits for the loop to end) while
    this one knocks on the port until the loop has seen it.
    """
    if not thread.is_alive():  # ``shutdown`` would wait for a loop that is not running
        server.server_close()
        return
    asking = threading.Thread(target=server.shutdown, name=f"{thread.name}-stop", daemon=True)
    asking.start()
    deadline = time.monotonic() + timeout_s
    while asking.is_alive() and thread.is_alive() and time.monotonic() < deadline:
        _knock(tuple(server.server_address))
        asking.join(0.05)
    server.server_close()
    thread.join(max(0.0, deadline - time.monotonic()))


def _knock(address: tuple[Any, ...]) -> None:
    """Open and close a connection to ``address``: enough to end the server's ``select``."""
    host, port = str(address[0]), int(address[1])
    host = _WILDCARD_TO_LOOPBACK.get(host, host)
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        pass


#: A server listening on every address is reached through the loopback.
_WILDCARD_TO_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1"}
