"""Loopback ports: finding a free one, and saying clearly when a chosen one is taken."""

from __future__ import annotations

import socket
import time


class PortInUse(RuntimeError):
    """A port Kith was told to use is already taken by another program."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


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
