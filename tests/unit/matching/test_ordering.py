"""A matching worker's streams see each partition in order from where it was last sought."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.matching.ordering import REFETCHES_BEFORE_A_HOLE, InOrder, Verdict

TP = ("kith.requests.v1", 0)


def test_a_partition_nobody_sought_delivers_what_comes_and_then_expects_the_next() -> None:
    order = InOrder()
    assert order.admit(TP, 7, refetching=False) is Verdict.DELIVER
    assert order.expected(TP) == 8


def test_the_rest_of_a_batch_fetched_before_a_seek_back_is_dropped_and_fetched_again() -> None:
    order = InOrder()
    for offset in range(10, 15):
        assert order.admit(TP, offset, refetching=False) is Verdict.DELIVER
    order.sought(TP, 10)  # the seek to the committed offset, mid-batch
    assert order.admit(TP, 15, refetching=False) is Verdict.REFETCH
    assert order.admit(TP, 16, refetching=True) is Verdict.DROP
    # The fetch from 10 brings everything again, in order.
    assert [order.admit(TP, o, refetching=False) for o in range(10, 17)] == [Verdict.DELIVER] * 7


def test_messages_below_the_expected_offset_are_dropped() -> None:
    order = InOrder()
    order.sought(TP, 20)
    assert order.admit(TP, 19, refetching=False) is Verdict.DROP
    assert order.admit(TP, 20, refetching=False) is Verdict.DELIVER


def test_a_jump_every_fetch_repeats_is_a_hole_in_the_log() -> None:
    order = InOrder()
    order.sought(TP, 30)
    for _ in range(REFETCHES_BEFORE_A_HOLE):
        assert order.admit(TP, 32, refetching=False) is Verdict.REFETCH
    assert order.admit(TP, 32, refetching=False) is Verdict.DELIVER
    assert order.expected(TP) == 33
    # The count starts again at the next jump.
    assert order.admit(TP, 35, refetching=False) is Verdict.REFETCH


def test_an_unknown_position_or_a_lost_partition_expects_nothing() -> None:
    order = InOrder()
    order.sought(TP, 5)
    order.sought(TP, None)
    assert order.admit(TP, 9, refetching=False) is Verdict.DELIVER
    order.forget(TP)
    assert order.expected(TP) is None


@st.composite
def _runs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int | None]]]:
    """A log's length and a run of fetches: (batch size, where in the batch a seek back
    happens, or None)."""
    length = draw(st.integers(1, 60))
    fetches = draw(
        st.lists(st.tuples(st.integers(1, 8), st.none() | st.integers(0, 7)), max_size=40)
    )
    return length, fetches


@given(_runs(), st.data())
def test_whatever_the_seeks_each_offset_follows_the_last_or_a_seek_and_none_is_lost(
    run: tuple[int, list[tuple[int, int | None]]], data: st.DataObject
) -> None:
    length, fetches = run
    order = InOrder()
    position = 0  # the broker-side fetch position
    delivered: list[int] = []
    sought_at: set[int] = {0}

    def fetch(size: int, seek_at: int | None) -> None:
        nonlocal position
        batch = list(range(position, min(position + size, length)))
        position += len(batch)
        refetching = False
        for index, offset in enumerate(batch):
            if index == seek_at and delivered:
                # A seek back to some committed offset at or below what was handed out.
                back = data.draw(st.integers(0, delivered[-1]))
                position = back
                order.sought(TP, back)
                sought_at.add(back)
            verdict = order.admit(TP, offset, refetching=refetching)
            if verdict is Verdict.DELIVER:
                if delivered and offset != delivered[-1] + 1:
                    assert offset in sought_at, f"{offset} jumped from {delivered[-1]}"
                delivered.append(offset)
            elif verdict is Verdict.REFETCH:
                refetching = True
                expected = order.expected(TP)
                assert expected is not None
                position = expected

    for size, seek_at in fetches:
        fetch(size, seek_at)
    for _ in range(2 * length):  # fetches with no seek drain the log
        fetch(8, None)
    assert set(delivered) == set(range(length))
