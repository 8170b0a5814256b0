"""Events as an observer sees them: read from any topic, summarised, filtered, never trusted.

Operators' tools (the console and ``kith tail``) read every stream, including messages that
cannot be decoded and dead letters. ``Observed`` holds one such message whatever it turned out
to be; ``headline`` says what it is about in one line; ``EventFilter`` picks the ones an
operator asked for. Nothing here talks to Kafka: ``shared.messaging.reader`` builds these.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import h3

from shared.contracts import Envelope, Payload
from shared.geo import NEIGHBOURHOOD_RESOLUTION

#: The fields of a payload that name a person (``tried_helper_ids`` holds several).
PEOPLE_FIELDS = (
    "person_id",
    "neighbour_id",
    "helper_id",
    "about_id",
    "author_id",
    "raised_by_id",
    "tried_helper_ids",
)
#: The type shown for a message that could not be read as a Kith event.
UNDECODABLE = "undecodable"
#: The type shown for a message on the dead-letter topic.
DEAD_LETTER = "dead_letter"

# The ids a headline shows, with the letter that marks each, in this order.
_ID_FIELDS = (
    ("request_id", "req"),
    ("booking_id", "bkg"),
    ("offer_id", "off"),
    ("concern_id", "con"),
    ("person_id", "per"),
    ("neighbour_id", "nbr"),
    ("helper_id", "hlp"),
    ("about_id", "about"),
    ("author_id", "by"),
    ("partner_id", "ptn"),
)
# Other fields worth a glance, in this order; long text is cut.
_DETAIL_FIELDS = (
    "skill",
    "starts_at",
    "hours",
    "round",
    "rounds",
    "stage",
    "visits",
    "matchable",
    "suspended",
    "step",
    "see_again",
    "as_agreed",
    "outcome",
    "raised_by_role",
    "cancelled_by",
    "late",
    "absent",
    "expired",
    "accepted",
    "active",
    "display_name",
    "reason",
    "summary",
)
_TEXT_LIMIT = 60


def stream_of(topic: str) -> str:
    """The short name of a topic: ``kith.requests.v1`` is ``requests``."""
    parts = topic.split(".")
    if len(parts) >= 3 and parts[0] == "kith" and parts[-1].startswith("v"):
        return ".".join(parts[1:-1])
    return topic


def short_id(value: object) -> str:
    """The first eight characters of an id: enough to tell ids apart on a screen."""
    return str(value)[:8]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a consumer dead-lettered a message, and where the message came from."""

    reason: str
    topic: str
    partition: int
    offset: int
    consumer: str


@dataclass(frozen=True, slots=True)
class Observed:
    """One message read from a topic, whatever it turned out to be.

    Attributes:
        topic: Where it was read.
        partition: Its partition.
        offset: Its offset.
        key: Its message key.
        timestamp: The broker's timestamp.
        envelope: The event, when it could be read (for a dead letter: the original event,
            when that could be read).
        problem: Why it could not be read, when it could not.
        refusal: For a dead letter, who refused the original and why.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    timestamp: datetime
    envelope: Envelope[Payload] | None = None
    problem: str | None = None
    refusal: Refusal | None = None

    @property
    def stream(self) -> str:
        """The topic's short name."""
        return stream_of(self.topic)

    @property
    def type(self) -> str:
        """The event type, or ``dead_letter`` / ``undecodable``."""
        if self.refusal is not None:
            return DEAD_LETTER
        return self.envelope.type if self.envelope is not None else UNDECODABLE

    @property
    def at(self) -> datetime:
        """When it happened: the event's own time, else the broker's."""
        return self.envelope.occurred_at if self.envelope is not None else self.timestamp

    @property
    def people(self) -> frozenset[str]:
        """Every person the event names."""
        return frozenset(_people(self.envelope.data)) if self.envelope is not None else frozenset()

    @property
    def places(self) -> frozenset[str]:
        """Every H3 cell the event names, and the neighbourhood of each."""
        return frozenset(_places(self.envelope.data)) if self.envelope is not None else frozenset()

    @property
    def neighbourhood(self) -> str | None:
        """The event's neighbourhood cell, when it has one."""
        if self.envelope is None:
            return None
        value = getattr(self.envelope.data, "neighbourhood", None)
        return value if isinstance(value, str) else None

    def public_data(self, *, max_items: int | None = None) -> dict[str, Any] | None:
        """The payload as JSON-ready data (no event carries a person's free text to withhold).

        Args:
            max_items: Cut lists longer than this (an availability holds hundreds of hours).
        """
        if self.envelope is None:
            return None
        data: dict[str, Any] = self.envelope.data.model_dump(mode="json")
        if max_items is not None:
            data = {name: _cut(value, max_items) for name, value in data.items()}
        return data

    def public_envelope(self) -> dict[str, Any] | None:
        """The whole envelope as JSON-ready data, with ``public_data`` as its data."""
        if self.envelope is None:
            return None
        document: dict[str, Any] = self.envelope.model_dump(mode="json", exclude={"data"})
        document["data"] = self.public_data()
        return document

    def headline(self) -> str:
        """One line saying what the message is about: short ids first, then details."""
        if self.refusal is not None:
            refused = self.envelope.type if self.envelope is not None else "a message"
            return (
                f"{self.refusal.consumer or '?'} refused {refused} from "
                f"{stream_of(self.refusal.topic)}@{self.refusal.partition}/"
                f"{self.refusal.offset}: {_cut_text(self.refusal.reason)}"
            )
        if self.envelope is None:
            return _cut_text(self.problem or "unreadable")
        data = self.public_data() or {}
        parts = [f"{mark}:{short_id(data[name])}" for name, mark in _ID_FIELDS if data.get(name)]
        for name in _DETAIL_FIELDS:
            value = data.get(name)
            if value is None or value == "":
                continue
            if name == "starts_at":
                value = _when(value)
            parts.append(f"{name}={_cut_text(str(value))}")
        return " ".join(parts)


def _people(payload: Payload) -> Iterator[str]:
    for name in PEOPLE_FIELDS:
        value = getattr(payload, name, None)
        if isinstance(value, uuid.UUID):
            yield str(value)
        elif isinstance(value, list):
            yield from (str(item) for item in value if isinstance(item, uuid.UUID))


def _places(payload: Payload) -> Iterator[str]:
    for name in ("neighbourhood", "cell", "neighbourhoods"):
        value = getattr(payload, name, None)
        cells = value if isinstance(value, list) else [value]
        for cell in cells:
            if isinstance(cell, str) and h3.is_valid_cell(cell):
                yield cell
                if h3.get_resolution(cell) > NEIGHBOURHOOD_RESOLUTION:
                    yield str(h3.cell_to_parent(cell, NEIGHBOURHOOD_RESOLUTION))


def _cut(value: Any, max_items: int) -> Any:
    if isinstance(value, list) and len(value) > max_items:
        return [*value[:max_items], f"… and {len(value) - max_items} more"]
    return value


def _cut_text(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _when(value: str) -> str:
    """An ISO time as ``2026-11-23T10:00`` (the seconds and zone say nothing here)."""
    return value[:16]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What an operator asked to see; an empty field lets everything through.

    Attributes:
        streams: Short stream names (``requests``) or topic names.
        types: Event types, with shell wildcards (``booking.*``).
        place: An H3 cell: matches an event naming it, or naming a cell inside it.
        person: A person's id, or the start of one (as shown on screen).
    """

    streams: frozenset[str] = field(default_factory=frozenset)
    types: frozenset[str] = field(default_factory=frozenset)
    place: str | None = None
    person: str | None = None

    @classmethod
    def of(
        cls,
        *,
        streams: Iterable[str] = (),
        types: Iterable[str] = (),
        place: str | None = None,
        person: str | None = None,
    ) -> EventFilter:
        """A filter from loose input: blanks dropped, comma lists split, case folded."""
        return cls(
            streams=frozenset(_split(streams)),
            types=frozenset(_split(types)),
            place=(place or "").strip().lower() or None,
            person=(person or "").strip().lower() or None,
        )

    def matches(self, seen: Observed) -> bool:
        """Whether ``seen`` passes every part of the filter."""
        if self.streams and not ({seen.stream, seen.topic} & self.streams):
            return False
        if self.types and not any(fnmatch.fnmatchcase(seen.type, t) for t in self.types):
            return False
        if self.place is not None and self.place not in seen.places:
            return False
        return self.person is None or any(p.startswith(self.person) for p in seen.people)


def _split(values: Iterable[str]) -> Iterator[str]:
    for value in values:
        yield from (part.strip() for part in value.split(",") if part.strip())
