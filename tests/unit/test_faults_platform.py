"""The processes a fault scenario starts share what ``kith up``'s processes share."""

from __future__ import annotations

from pathlib import Path

from kith.faults.platform import Platform


def test_two_booking_processes_share_the_idempotency_secret(tmp_path: Path) -> None:
    # Each process used to make its own in its own state folder: a client's retry that
    # reached the other booking process was refused as "a different request body".
    kith = Platform(tmp_path, bootstrap="127.0.0.1:9092", database_url="postgresql://x@y/z")
    first = kith.add("booking", http=True)
    second = kith.add("booking", name="booking-2", env={"KITH_HTTP_PORT": str(first.http_port)})

    secret = first.environment["KITH_IDEMPOTENCY_KEY_SECRET"]
    assert len(secret) >= 32
    assert second.environment["KITH_IDEMPOTENCY_KEY_SECRET"] == secret
    assert second.http_port == first.http_port
    other = Platform(tmp_path, bootstrap="127.0.0.1:9092", database_url="postgresql://x@y/z")
    assert other.add("booking").environment["KITH_IDEMPOTENCY_KEY_SECRET"] != secret
