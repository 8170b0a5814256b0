"""The codec reads only well-formed events of known types, and says why it will not."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.contracts import (
    Envelope,
    UndecodableEvent,
    decode,
    encode,
    key_for,
    pair_key,
    tombstone_of,
)
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import PEOPLE, STANDING

NEIGHBOURHOOD = "87195da49ffffff"


def _valid() -> dict[str, object]:
    event = Envelope.wrap(
        HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=NEIGHBOURHOOD),
        producer="test",
    )
    document: dict[str, object] = json.loads(encode(event))
    return document


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.pop("event_id"), "envelope lacks event_id"),
        (lambda d: d.update(type="no.such"), "unknown event type 'no.such'"),
        (lambda d: d.update(version=9), "version 9"),
        (lambda d: d["data"].update(neighbourhood="Hackney"), "data.neighbourhood"),
        (lambda d: d["data"].update(extra=1), "extra"),
        (lambda d: d.update(data=[]), "malformed 'data'"),
    ],
)
def test_bad_events_are_refused_with_the_field_and_reason(mutate: object, reason: str) -> None:
    document = _valid()
    mutate(document)  # type: ignore[operator]
    with pytest.raises(UndecodableEvent) as refused:
        decode(json.dumps(document).encode())
    assert reason in refused.value.reason or reason.split(".")[-1] in refused.value.reason


@pytest.mark.parametrize("raw", [None, b"", b"\xff\xfe", b"[]", b"{", b"x" * 300_000])
def test_unreadable_bytes_are_refused(raw: bytes | None) -> None:
    with pytest.raises(UndecodableEvent):
        decode(raw)


def test_round_trip_keeps_every_envelope_field() -> None:
    document = _valid()
    event = decode(json.dumps(document).encode())
    assert json.loads(encode(event)) == document
    assert key_for(event.data) == NEIGHBOURHOOD.encode()


def test_pair_key_is_the_same_either_way_round() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert pair_key(a, b) == pair_key(b, a)


def test_json_nested_too_deeply_to_parse_is_refused_not_raised() -> None:
    # A few hundred kilobytes of brackets once escaped decode as a RecursionError and
    # stopped every consumer that read it.
    raw = b'{"data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"

    with pytest.raises(UndecodableEvent, match="nested too deeply"):
        decode(raw)


def test_a_tombstone_is_a_null_value_under_a_person_on_a_compacted_topic() -> None:
    person = uuid.uuid4()

    assert tombstone_of(STANDING.name, str(person).encode(), None) == str(person)
    assert tombstone_of(STANDING.name, str(person).encode(), b"{}") is None
    assert tombstone_of(STANDING.name, b"poison-null_value", None) is None
    assert tombstone_of(STANDING.name, None, None) is None
    assert tombstone_of(PEOPLE.name, str(person).encode(), None) is None  # not compacted
    assert tombstone_of("kith.nonsense.v1", str(person).encode(), None) is None
