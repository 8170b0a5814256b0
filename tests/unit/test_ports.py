"""Listening ports for child processes: drawn below the kernel's ephemeral range."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from shared.embedded.ports import PortInUse, _ephemeral_range, free_port, require_free


def test_a_free_port_is_below_the_range_outgoing_connections_take_their_ports_from() -> None:
    low, _ = _ephemeral_range()
    ports = {free_port() for _ in range(50)}
    assert all(1024 <= port < low for port in ports)
    # Drawn at random, not handed out in order.
    assert len(ports) > 40


def test_a_free_port_can_be_listened_on_and_a_taken_one_is_named() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        with pytest.raises(PortInUse, match="the test server cannot listen"):
            require_free("127.0.0.1", port, "the test server")


def test_a_port_handed_out_once_is_not_handed_out_again_before_its_child_binds_it() -> None:
    # Nothing binds these: each stays free, and the draws must still never meet (without the
    # memory, 600 draws from about 12,000 ports meet about 15 times).
    ports = [free_port() for _ in range(600)]
    assert len(set(ports)) == len(ports)


def test_a_port_another_process_chose_is_avoided() -> None:
    low, _ = _ephemeral_range()
    chosen = set(range(max(1024, low - 12000), low - 10))
    ports = {free_port(avoid=chosen) for _ in range(5)}
    assert not ports & chosen


def test_a_port_another_process_handed_out_is_not_handed_out_here() -> None:
    # Two test workers, or two `kith up`, draw at once: each must see what the other handed
    # out to a child that has not bound it yet (400 draws each from about 12,000 ports meet
    # about 13 times without that).
    script = "from shared.embedded.ports import free_port; print([free_port() for _ in range(400)])"
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    theirs = set(json.loads(other.stdout))
    ours = {free_port() for _ in range(400)}
    assert len(theirs) == 400
    assert not ours & theirs
