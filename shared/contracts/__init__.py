"""Kith's event contracts: the envelope, one pydantic model per event, topics and codec."""

from shared.contracts.codec import (
    UndecodableEvent,
    decode,
    encode,
    key_for,
    pair_key,
    tombstone_of,
)
from shared.contracts.envelope import Envelope, Payload, TraceContext, new_id, utc_now
from shared.contracts.registry import EVENTS_BY_TOPIC, PAYLOADS, topic_for

__all__ = [
    "EVENTS_BY_TOPIC",
    "PAYLOADS",
    "Envelope",
    "Payload",
    "TraceContext",
    "UndecodableEvent",
    "decode",
    "encode",
    "key_for",
    "new_id",
    "pair_key",
    "tombstone_of",
    "topic_for",
    "utc_now",
]
