"""Kith's producers put a key on the partition every Kafka client would."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from shared.messaging.partitioner import partition_of


@given(key=st.binary(max_size=64), partitions=st.integers(min_value=1, max_value=64))
def test_a_key_lands_where_the_default_partitioner_puts_it_the_first_time_and_every_time(
    key: bytes, partitions: int
) -> None:
    every = list(range(partitions))
    expected = DefaultPartitioner()(key, every, every)
    assert partition_of(key, every, every) == expected
    assert partition_of(key, every, every) == expected  # remembered, unchanged


def test_a_message_without_a_key_goes_to_an_available_partition() -> None:
    every = list(range(12))
    assert {partition_of(None, every, [3, 7]) for _ in range(200)} <= {3, 7}
    assert {partition_of(None, every, []) for _ in range(200)} <= set(every)
