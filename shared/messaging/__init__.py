"""Kafka plumbing on aiokafka: publishing, consuming with dead letters, and topic set-up.

The only aiokafka code in Kith besides matching's faust driver.
"""

from shared.messaging.admin import ensure_topics, group_caught_up, group_lag
from shared.messaging.connection import Kafka, KafkaConnection
from shared.messaging.consumer import (
    BatchHandler,
    Delivery,
    EventConsumer,
    Handler,
    RejectedEvent,
    TombstoneHandler,
    run_consumers,
)
from shared.messaging.dead_letters import DeadLetter, read_dead_letter
from shared.messaging.loop import RecordConsumer, RecordHandler
from shared.messaging.offsets import end_offsets
from shared.messaging.publisher import Publisher

__all__ = [
    "BatchHandler",
    "DeadLetter",
    "Delivery",
    "EventConsumer",
    "Handler",
    "Kafka",
    "KafkaConnection",
    "Publisher",
    "RecordConsumer",
    "RecordHandler",
    "RejectedEvent",
    "TombstoneHandler",
    "end_offsets",
    "ensure_topics",
    "group_caught_up",
    "group_lag",
    "read_dead_letter",
    "run_consumers",
]
