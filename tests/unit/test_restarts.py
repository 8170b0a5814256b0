"""kith up's backoff between restarts of a process that died."""

from __future__ import annotations

from kith.restarts import RestartPolicy


def test_the_delay_doubles_with_each_recent_crash_up_to_the_cap() -> None:
    policy = RestartPolicy(first_delay_s=0.5, max_delay_s=3, give_up_after=10, window_s=60)
    delays = [policy.delay_s([float(t) for t in range(n)], now=n) for n in range(1, 6)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_old_crashes_are_forgiven() -> None:
    policy = RestartPolicy(first_delay_s=0.5, give_up_after=2, window_s=60)
    assert policy.delay_s([0.0, 1.0, 2.0], now=200.0) == 0.5
    assert policy.delay_s([0.0, 150.0, 190.0], now=200.0) == 1.0


def test_it_gives_up_on_a_process_that_keeps_crashing() -> None:
    policy = RestartPolicy(give_up_after=3, window_s=60)
    assert policy.delay_s([1.0, 2.0, 3.0], now=4.0) is not None
    assert policy.delay_s([1.0, 2.0, 3.0, 4.0], now=5.0) is None
