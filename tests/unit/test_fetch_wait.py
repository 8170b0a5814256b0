"""A consumer's fetch wait lengthens once it has been idle and shortens with its next record."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from services.ledger.entrypoints.consumer import build_consumer as ledger_consumer
from services.notify.entrypoints.consumer import build_consumer as notify_consumer
from services.partners.entrypoints.consumers import inbox_consumer
from services.trust.entrypoints.consumer import build_consumer as trust_consumer
from shared.messaging import Publisher, fetch_wait
from shared.messaging.fetch_wait import FetchWait
from shared.messaging.loop import RecordConsumer
from shared.settings import Settings


def _client(wait_ms: int) -> SimpleNamespace:
    # What FetchWait touches of an aiokafka consumer: the fetcher's wait and how long its
    # routine sleeps.
    routine_s = fetch_wait.FETCH_ROUTINE_WAKE_MS / 1000
    return SimpleNamespace(
        _fetcher=SimpleNamespace(_fetch_max_wait_ms=wait_ms, _fetcher_timeout=routine_s)
    )


def test_the_wait_lengthens_after_a_quiet_spell_and_shortens_with_a_record() -> None:
    clock = [100.0]
    client = _client(25)
    wait = FetchWait(busy_ms=25, idle_ms=250, clock=lambda: clock[0])

    clock[0] += fetch_wait.IDLE_AFTER_S / 2
    wait.after_read(client, 0)
    assert client._fetcher._fetch_max_wait_ms == 25, "not idle long enough yet"

    clock[0] += fetch_wait.IDLE_AFTER_S
    wait.after_read(client, 0)
    assert client._fetcher._fetch_max_wait_ms == 250
    assert wait.current_ms == 250

    wait.after_read(client, 3)
    assert client._fetcher._fetch_max_wait_ms == 25
    assert client._fetcher._fetcher_timeout == fetch_wait.FETCH_ROUTINE_WAKE_MS / 1000
    clock[0] += fetch_wait.IDLE_AFTER_S / 2
    wait.after_read(client, 0)
    assert client._fetcher._fetch_max_wait_ms == 25, "the quiet spell starts at the last record"


def test_an_idle_fetch_routine_wakes_once_a_fetch_not_every_second() -> None:
    clock = [100.0]
    client = _client(25)
    wait = FetchWait(busy_ms=25, idle_ms=30_000, clock=lambda: clock[0])
    clock[0] += 2 * fetch_wait.IDLE_AFTER_S
    wait.after_read(client, 0)
    assert client._fetcher._fetcher_timeout == 30.0

    wait.after_read(client, 1)
    assert client._fetcher._fetcher_timeout == fetch_wait.FETCH_ROUTINE_WAKE_MS / 1000
    # Never sooner than the routine's usual pace, whatever the wait.
    assert fetch_wait.routine_wake_s(250) == fetch_wait.FETCH_ROUTINE_WAKE_MS / 1000


def test_a_consumer_not_started_yet_is_left_alone() -> None:
    clock = [100.0]
    wait = FetchWait(busy_ms=25, idle_ms=250, clock=lambda: clock[0])
    clock[0] += 2 * fetch_wait.IDLE_AFTER_S
    wait.after_read(None, 0)
    assert wait.current_ms == 25, "tried again once the client has a fetcher"
    client = _client(25)
    wait.after_read(client, 0)
    assert client._fetcher._fetch_max_wait_ms == 250


async def test_only_the_consumers_no_one_waits_on_idle_longest() -> None:
    # Built, never started: nothing here reaches a broker.
    settings = Settings(kafka_bootstrap="127.0.0.1:9")
    publisher = Publisher(settings, client_id="test")
    nothing: Any = None
    ledger = ledger_consumer(settings, start=nothing, dead_letters=publisher)
    trust = trust_consumer(settings, start=nothing, policy=nothing, dead_letters=publisher)
    notify = notify_consumer(settings, store=nothing, wake=nothing, dead_letters=publisher)
    inbox = inbox_consumer(settings, nothing, publisher)
    chosen = RecordConsumer(
        settings,
        name="test",
        group_id="test",
        topics=["kith.requests.v1"],
        handler=nothing,
        dead_letters=publisher,
        background=True,
        idle_fetch_max_wait_ms=1234,
    )
    try:
        assert chosen._wait.idle_ms == 1234, "the wait asked for, over the background one"
        assert ledger._wait.idle_ms == settings.background_idle_fetch_max_wait_ms
        # Trust reads concerns, and suspends someone as soon as it does.
        assert trust._wait.idle_ms == settings.idle_fetch_max_wait_ms
        # What notify and the partners' inbox read becomes a message, not an answer on a
        # screen: after a quiet spell it may be seen a few seconds later, not fifteen.
        assert notify._wait.idle_ms == settings.message_idle_fetch_max_wait_ms
        assert inbox._wait.idle_ms == settings.message_idle_fetch_max_wait_ms
        assert (
            settings.idle_fetch_max_wait_ms
            < settings.message_idle_fetch_max_wait_ms
            < settings.background_idle_fetch_max_wait_ms
        )
        # While records flow they read as promptly as any consumer someone waits on.
        assert notify._wait.current_ms == inbox._wait.current_ms == settings.fetch_max_wait_ms
        # Kith's reads wait longer for records than aiokafka's fetch routine sleeps: a
        # restarted consumer catches up on the latter's pace (FETCH_ROUTINE_WAKE_MS).
        for consumer in (ledger, trust, notify, inbox):
            assert consumer._consumer._consumer_timeout == fetch_wait.FETCH_ROUTINE_WAKE_MS / 1000
        assert fetch_wait.FETCH_ROUTINE_WAKE_MS < fetch_wait.IDLE_WAKE_MS
    finally:
        for consumer in (ledger, trust, notify, inbox, chosen):
            await consumer._consumer.stop()
        await publisher.stop()
