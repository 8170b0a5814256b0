"""Loopback ports: finding a free one, and saying clearly when a chosen one is taken."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Collection
from pathlib import Path


class PortInUse(RuntimeError):
    """A port Kith was told to use is already taken by another program."""


#: Where listening ports are drawn from when the kernel's ephemeral range is unknown.
_EPHEMERAL_DEFAULT = (32768, 60999)
#: How many ports below the ephemeral range a listening port is drawn from.
_LISTEN_SPAN = 12000
#: Not seeded by anything a test or a benchmark seeds: two processes drawing at once must not
#: draw the same sequence.
_draw = random.SystemRandom()
#: Every port this process has handed out. A port is only free until its child binds it, so
#: two draws for the same `kith up` (a service's port, then a metrics port) must not meet.
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1", *, avoid: Collection[int] = ()) -> int:
    """A port that nothing listens on right now, for a child process to listen on.

    Drawn at random from below the kernel's ephemeral range. A port from that range, freed
    here, can be taken as the source port of any outgoing connection (to the broker, to the
    database) before the child binds it. Never one this process handed out before, nor one in
    ``avoid``: ports another process chose for children that have not bound them yet.
    """
    low, _ = _ephemeral_range()
    first = max(1024, low - _LISTEN_SPAN)
    for _ in range(200):
        port = _draw.randrange(first, low)
        if port in _handed_out or port in avoid:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            _handed_out.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        return _EPHEMERAL_DEFAULT
    return int(low), int(high)


def require_free(host: str, port: int, what: str) -> None:
    """Raise ``PortInUse`` naming ``what`` when ``host:port`` cannot be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(
                f"{what} cannot listen on {host}:{port}: the port is already in use "
                f"({error.strerror}). Stop the program using it, or choose another port."
            ) from error


def wait_for_port(host: str, port: int, *, timeout_s: float) -> None:
    """Block until something accepts connections on ``host:port``.

    Raises:
        TimeoutError: Nothing listened within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                message = f"nothing listened on {host}:{port} within {timeout_s}s"
                raise TimeoutError(message) from None
            time.sleep(0.01)
