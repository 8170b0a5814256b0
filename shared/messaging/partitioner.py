"""The partition of a keyed message: Kafka's own rule, remembered per key.

Every Kafka client puts a key on partition ``murmur2(key) mod partitions`` (aiokafka's
``DefaultPartitioner``, as Java's), and every Kith producer must keep doing so: a consumer
that reads a neighbourhood's events in order relies on them all landing on one partition,
whoever published them. aiokafka computes the hash in pure Python, about 5 µs a message,
and most of Kith's keys recur (a neighbourhood's cell, a helper and neighbour's pair): a
booking's relay hashed the same few keys for every event it published.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from aiokafka.partitioner import DefaultPartitioner, murmur2

#: Keys whose hash is remembered: many more than a town's neighbourhoods, about a megabyte.
REMEMBERED_KEYS = 4096

_DEFAULT = DefaultPartitioner()


@lru_cache(maxsize=REMEMBERED_KEYS)
def _positive_hash(key: bytes) -> int:
    return int(murmur2(key)) & 0x7FFFFFFF


def partition_of(key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
    """The partition aiokafka's ``DefaultPartitioner`` picks: by the key's hash, remembered,
    or its own choice for a message without a key.

    An aiokafka ``partitioner``: ``AIOKafkaProducer(partitioner=partition_of)``.
    """
    if key is None:
        return int(_DEFAULT(key, all_partitions, available))
    return all_partitions[_positive_hash(key) % len(all_partitions)]
