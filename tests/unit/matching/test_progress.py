"""When a matching worker reads a partition again: stuck, and unchanged over a whole look."""

from __future__ import annotations

from dataclasses import replace

from services.matching.progress import Seen, Watch, stuck

CAUGHT_UP = Seen(committed=10, read=9, end=10, first_acked=None, paused_in_client=False)


def test_a_partition_read_and_committed_to_its_end_is_not_stuck() -> None:
    assert stuck(CAUGHT_UP) is None
    # Read to the end, the last messages not yet committed: they are being handled.
    assert stuck(replace(CAUGHT_UP, committed=7)) is None
    # Nothing fetched yet, or never committed: nothing to go by.
    assert stuck(replace(CAUGHT_UP, end=None)) is None
    assert stuck(replace(CAUGHT_UP, committed=None, read=None)) is None


def test_the_ways_a_partition_stops_for_good_are_named() -> None:
    hole = replace(CAUGHT_UP, committed=7, first_acked=8)
    assert stuck(hole) == "the message at the committed offset was never handled"
    behind = replace(CAUGHT_UP, committed=7, read=6)
    assert stuck(behind) == "messages wait past the last one read"
    assert stuck(replace(CAUGHT_UP, paused_in_client=True)) == "paused in the Kafka client"


def test_a_stuck_partition_is_kicked_after_a_whole_look_unchanged_and_once() -> None:
    watch, behind = Watch(), replace(CAUGHT_UP, committed=7, read=6)
    assert watch.look("tp", behind) is None  # first seen so
    assert watch.look("tp", behind) == "messages wait past the last one read"
    # The kick did not move it: not again until something changes.
    assert watch.look("tp", behind) is None
    moved = replace(behind, end=12)
    assert watch.look("tp", moved) is None
    assert watch.look("tp", moved) == "messages wait past the last one read"


def test_a_partition_that_moves_is_never_kicked() -> None:
    watch = Watch()
    for read in range(5):
        assert watch.look("tp", replace(CAUGHT_UP, committed=read, read=read, end=10)) is None


def test_a_reset_makes_the_next_look_a_first_one() -> None:
    watch, hole = Watch(), replace(CAUGHT_UP, committed=7, first_acked=8)
    watch.look("tp", hole)
    watch.reset()
    assert watch.look("tp", hole) is None
