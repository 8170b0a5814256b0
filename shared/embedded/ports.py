"""Loopback ports: finding a free one, and saying clearly when a chosen one is taken."""

from __future__ import annotations

import fcntl
import json
import os
import random
import socket
import tempfile
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
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
#: Ports handed out by every process of this user on this machine, with when each hold ends:
#: a second test worker or a second `kith up` drawing at the same moment cannot see this
#: process's memory, and its child could bind a port before the child it was drawn for.
_LEDGER = Path(tempfile.gettempdir()) / f"kith-ports-{os.getuid()}.json"
#: How long a port handed out stays held for its child: far longer than any child takes to
#: bind it, after which the probe sees it bound.
_HOLD_S = 60.0


def free_port(host: str = "127.0.0.1", *, avoid: Collection[int] = ()) -> int:
    """A port that nothing listens on right now, for a child process to listen on.

    Drawn at random from below the kernel's ephemeral range. A port from that range, freed
    here, can be taken as the source port of any outgoing connection (to the broker, to the
    database) before the child binds it. Never one this process handed out before, nor one in
    ``avoid``: ports another process chose for children that have not bound them yet.
    """
    low, _ = _ephemeral_range()
    first = max(1024, low - _LISTEN_SPAN)
    with _held_elsewhere() as held:
        for _ in range(200):
            port = _draw.randrange(first, low)
            if port in _handed_out or port in avoid or port in held:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind((host, port))
                except OSError:
                    continue
            _handed_out.add(port)
            held[port] = time.time() + _HOLD_S
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def _held_elsewhere() -> Iterator[dict[int, float]]:
    """The machine-wide holds, locked against other processes until the block ends.

    What the block adds is written back; a ledger that cannot be read counts as empty.
    """
    with _LEDGER.open("a+", encoding="utf-8") as ledger:
        fcntl.flock(ledger, fcntl.LOCK_EX)
        ledger.seek(0)
        try:
            entries = json.loads(ledger.read() or "{}")
            held = {int(port): float(until) for port, until in entries.items()}
        except (ValueError, AttributeError):
            held = {}
        now = time.time()
        held = {port: until for port, until in held.items() if until > now}
        yield held
        ledger.seek(0)
        ledger.truncate()
        ledger.write(json.dumps(held))


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
