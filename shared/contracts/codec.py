"""JSON encoding of envelopes, and decoding through the registry with upcasting."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.contracts.envelope import Envelope, Payload, TraceContext, new_id, utc_now
from shared.contracts.registry import PAYLOADS, TOPIC_OF, UPCASTERS, topic_for
from shared.contracts.topics import KeyBy, topic_named

MAX_EVENT_BYTES = 256 * 1024
# The envelope fills these when an event is made; on the wire they must be present, or a
# replayed event would get a fresh id and be applied twice.
_REQUIRED = ("event_id", "occurred_at", "producer", "correlation_id")


class UndecodableEvent(ValueError):
    """A message that cannot be read as a Kith event; ``reason`` says why, for the DLQ."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode(envelope: Envelope[Any]) -> bytes:
    """The envelope as compact UTF-8 JSON."""
    # Serialise the payload by its runtime class, not the envelope's declared type parameter.
    return envelope.model_dump_json(serialize_as_any=True).encode()


@dataclass(frozen=True, slots=True)
class OpenEnvelope:
    """A new event's envelope, encoded but for its data, which a SQL statement writes between
    ``head`` and ``tail`` from the rows it has locked: for a change that learns what its event
    says only inside its one statement (an accept books whatever the offer and its request say
    once locked). Consumers read the result as any event (``decode``).

    Attributes:
        event_id: The envelope's id, for the outbox row.
        type: The payload's type name.
        topic: The topic the payload is published on.
        head: The envelope's JSON up to its data.
        tail: What closes it after the data.
    """

    event_id: uuid.UUID
    type: str
    topic: str
    head: str
    tail: str


def encode_around(payload: type[Payload], *, producer: str) -> OpenEnvelope:
    """A new envelope of ``payload``'s type and version from ``producer``, occurring now,
    open where its data goes."""
    envelope: Envelope[Any] = Envelope.model_construct(
        event_id=new_id(),
        type=payload.TYPE,
        version=payload.VERSION,
        occurred_at=utc_now(),
        producer=producer,
        correlation_id=new_id(),
        causation_id=None,
        trace=TraceContext(),
        data=None,
    )
    head, data, tail = envelope.model_dump_json(serialize_as_any=True).rpartition("null}")
    if not head.endswith('"data":') or data != "null}" or tail:
        raise ValueError("an envelope's data is no longer its last field")
    return OpenEnvelope(envelope.event_id, payload.TYPE, TOPIC_OF[payload].name, head, tail="}")


def decode(raw: bytes | None) -> Envelope[Payload]:
    """Read one message value as an event of a known type, upcast to the current version.

    Raises:
        UndecodableEvent: The bytes are not JSON, not an envelope, of an unknown type or
            version, or their data breaks the contract. The reason names the field.
    """
    if raw is None:
        raise UndecodableEvent("empty message value (tombstone)")
    if len(raw) > MAX_EVENT_BYTES:
        raise UndecodableEvent(f"message of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UndecodableEvent(f"not JSON: {error}") from error
    except RecursionError as error:
        # Arrays nested thousands deep fit in a small message; the parser gives up on them.
        raise UndecodableEvent("not JSON: nested too deeply to read") from error
    if not isinstance(document, dict):
        raise UndecodableEvent("not a JSON object")
    kind, version = document.get("type"), document.get("version")
    if not isinstance(kind, str) or not isinstance(version, int):
        raise UndecodableEvent("missing or malformed 'type' or 'version'")
    missing = [name for name in _REQUIRED if name not in document]
    if missing:
        raise UndecodableEvent(f"envelope lacks {', '.join(missing)}")
    data = document.get("data")
    if not isinstance(data, dict):
        raise UndecodableEvent("missing or malformed 'data'")
    while (kind, version) in UPCASTERS:
        version, upcast = UPCASTERS[(kind, version)]
        data = upcast(data)
    payload_class = PAYLOADS.get((kind, version))
    if payload_class is None:
        raise UndecodableEvent(f"unknown event type {kind!r} version {version}")
    try:
        payload = payload_class.model_validate(data)
        return Envelope[Payload].model_validate({**document, "version": version, "data": payload})
    except ValidationError as error:
        raise UndecodableEvent(_describe(error)) from error


def _describe(error: ValidationError) -> str:
    """The first few problems as ``field: reason`` — short enough for a Kafka header."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}"
        for item in error.errors()[:5]
    ]
    return "invalid event: " + "; ".join(problems)


def key_for(payload: Payload) -> bytes:
    """The message key that keeps this payload's order on its topic."""
    key_by = topic_for(payload).key_by
    value: object
    if key_by is KeyBy.NEIGHBOURHOOD:
        value = getattr(payload, "neighbourhood")  # noqa: B009 - every such payload has one
    elif key_by is KeyBy.REQUEST:
        value = getattr(payload, "request_id")  # noqa: B009
    elif key_by is KeyBy.PERSON:
        value = getattr(payload, "person_id")  # noqa: B009
    elif key_by is KeyBy.PARTNER:
        value = getattr(payload, "partner_id")  # noqa: B009
    elif key_by is KeyBy.PAIR:
        value = pair_key(getattr(payload, "helper_id"), getattr(payload, "neighbour_id"))  # noqa: B009
    else:
        raise ValueError(f"{type(payload).__name__} has no key of its own")
    return str(value).encode()


def tombstone_of(topic: str, key: bytes | None, value: bytes | None) -> str | None:
    """The key a tombstone deletes, or ``None`` when the message is not a tombstone.

    A tombstone is a null value under a well-formed key on a compacted Kith topic: the
    producer's word that everything under that key is forgotten (an erased person's standing,
    say). A null value anywhere else, or under a key that is not one of the topic's, is an
    unreadable message like any other.
    """
    if value is not None or key is None:
        return None
    try:
        registered = topic_named(topic)
    except KeyError:
        return None
    if not registered.compacted or registered.key_by is not KeyBy.PERSON:
        return None
    try:
        return str(uuid.UUID(key.decode()))
    except (UnicodeDecodeError, ValueError):
        return None


def pair_key(first: object, second: object) -> str:
    """One id for two people, whichever way round they are given."""
    low, high = sorted((str(first), str(second)))
    return f"{low}:{high}"
