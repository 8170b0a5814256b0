"""A transaction that wrote events rings its process's relay after it ends, and only then
leaves out the NOTIFY; anywhere else the statement still notifies."""

from __future__ import annotations

import pytest

from shared.postgres import RelayBell, wake_relay

NOTIFY = " SELECT pg_notify('kith_outbox', '')"


class Relay:
    def __init__(self) -> None:
        self.rings = 0

    def ring(self) -> None:
        self.rings += 1


async def test_a_statement_outside_any_transaction_of_a_bell_notifies() -> None:
    assert wake_relay() == NOTIFY


async def test_without_a_relay_attached_the_statement_notifies_and_nothing_rings() -> None:
    bell = RelayBell()
    async with bell.after_commit():
        assert wake_relay() == NOTIFY


async def test_the_relay_is_rung_once_after_the_transaction_and_no_statement_notifies() -> None:
    bell, relay = RelayBell(), Relay()
    bell.attach(relay.ring)
    async with bell.after_commit():
        assert wake_relay() == " SELECT 1"
        assert wake_relay() == " SELECT 1"
        assert relay.rings == 0, "not before it commits"
    assert relay.rings == 1


async def test_a_transaction_that_wrote_no_events_rings_nothing() -> None:
    bell, relay = RelayBell(), Relay()
    bell.attach(relay.ring)
    async with bell.after_commit():
        pass
    assert relay.rings == 0


async def test_a_nested_transaction_leaves_the_ring_to_the_enclosing_one() -> None:
    bell, relay = RelayBell(), Relay()
    bell.attach(relay.ring)
    async with bell.after_commit():
        async with bell.after_commit():
            assert wake_relay() == " SELECT 1"
        assert relay.rings == 0
    assert relay.rings == 1
    assert wake_relay() == NOTIFY, "outside again"


async def test_it_rings_after_an_error_too() -> None:
    # A statement of the block may have committed on a connection of its own.
    bell, relay = RelayBell(), Relay()
    bell.attach(relay.ring)

    async def failing_change() -> None:
        async with bell.after_commit():
            wake_relay()
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert relay.rings == 1


async def test_a_detached_relay_is_not_rung_and_statements_notify_again() -> None:
    bell, relay = RelayBell(), Relay()
    bell.attach(relay.ring)
    bell.detach()
    async with bell.after_commit():
        assert wake_relay() == NOTIFY
    assert relay.rings == 0
