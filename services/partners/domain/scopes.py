"""What a partner may read and send, and the reduction of an event to the fields it may see.

Pure: the standard library and ``shared.contracts`` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.contracts.envelope import Payload
from shared.contracts.registry import EVENTS_BY_TOPIC, PARTNER_SENDABLE
from shared.contracts.topics import ALL_TOPICS, Topic

#: The streams a partner may be allowed to read, by topic name. Private streams (check-ins,
#: vetting, concerns, dead letters, partners and the inbox) are absent, so can never be granted.
PUBLIC_TOPICS: dict[str, Topic] = {topic.name: topic for topic in ALL_TOPICS if not topic.private}

#: Every event type on a public stream, by type name.
PUBLIC_TYPES: dict[str, type[Payload]] = {
    cls.TYPE: cls
    for topic, classes in EVENTS_BY_TOPIC.items()
    if not topic.private
    for cls in classes
}

#: What a partner may be allowed to send, by type name.
SENDABLE_TYPES: dict[str, type[Payload]] = {cls.TYPE: cls for cls in PARTNER_SENDABLE}

#: Fields no partner ever sees, whatever its scopes say: a home, a phone, private answers.
NEVER_FIELDS = frozenset({"address", "phone", "note", "see_again", "as_agreed"})

#: Fields that identify, place or describe a person. A partner sees them only when an
#: operator grants them by name; the default view of an event leaves them out.
PERSONAL_FIELDS = frozenset(
    {
        "person_id",
        "helper_id",
        "neighbour_id",
        "author_id",
        "about_id",
        "raised_by_id",
        "preferred_helper_id",
        "regular_helper_id",
        "stepped_back_helper_ids",
        "tried_helper_ids",
        "pair_id",
        "display_name",
        "cell",
        "languages",
        "travel_radius_km",
        "weekly_hour_cap",
        "free_hours",
        # A person's weekly hours, days away and zone say when their home is empty.
        "rules",
        "away",
        "extra",
        "time_zone",
        # Free text and matching's reasons can say who met whom and how it went.
        "reason",
        "reasons",
        # Matching's answer to an operator: helpers with reasons, and why others may not.
        "candidates",
        "passed_over",
        # Which partner referred a neighbour says something about them (a charity's client).
        "referred_by",
    }
)


def never_visible(name: str) -> bool:
    """Whether a field name is one no partner may see (also catching e.g. ``home_address``)."""
    return name in NEVER_FIELDS or "address" in name or "phone" in name


def default_fields(event_type: str) -> frozenset[str]:
    """The non-personal fields of a public event type: what a partner sees unless told."""
    cls = PUBLIC_TYPES[event_type]
    return frozenset(
        name for name in cls.model_fields if name not in PERSONAL_FIELDS and not never_visible(name)
    )


class ScopeError(ValueError):
    """A scope an operator asked for that cannot be granted; ``field`` says which part."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Scopes:
    """What one partner may do.

    Attributes:
        read_streams: Public topic names whose events are projected to the partner's feed.
        fields: Per event type, the payload fields it sees; a type absent here gets
            ``default_fields``.
        send: Event types the partner may send on the inbox.
    """

    read_streams: frozenset[str] = frozenset()
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    send: frozenset[str] = frozenset()

    def visible_fields(self, event_type: str) -> frozenset[str]:
        """The fields of ``event_type`` this partner sees."""
        granted = self.fields.get(event_type)
        return default_fields(event_type) if granted is None else granted

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, for storage and for the API."""
        return {
            "read_streams": sorted(self.read_streams),
            "fields": {kind: sorted(names) for kind, names in sorted(self.fields.items())},
            "send": sorted(self.send),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Scopes:
        """Read back what ``to_json`` wrote (already validated when it was granted)."""
        return cls(
            read_streams=frozenset(document.get("read_streams", ())),
            fields={k: frozenset(v) for k, v in dict(document.get("fields", {})).items()},
            send=frozenset(document.get("send", ())),
        )


def grant(
    *,
    read_streams: Iterable[str] = (),
    fields: Mapping[str, Iterable[str]] | None = None,
    send: Iterable[str] = (),
) -> Scopes:
    """Scopes an operator asked for, checked: raises ``ScopeError`` naming the first problem.

    Private streams, unknown streams or types, fields a type lacks, and fields no partner
    may ever see are refused rather than silently dropped, so the operator knows.
    """
    streams = frozenset(read_streams)
    for name in sorted(streams):
        if name not in PUBLIC_TOPICS:
            known = any(topic.name == name for topic in ALL_TOPICS)
            reason = "is private and can never be granted" if known else "is not a Kith stream"
            raise ScopeError("scopes.read_streams", f"{name!r} {reason}")
    granted: dict[str, frozenset[str]] = {}
    for kind, names in (fields or {}).items():
        cls = PUBLIC_TYPES.get(kind)
        if cls is None:
            raise ScopeError("scopes.fields", f"{kind!r} is not an event type of a public stream")
        chosen = frozenset(names)
        for name in sorted(chosen):
            if name not in cls.model_fields:
                raise ScopeError(f"scopes.fields.{kind}", f"{kind} has no field {name!r}")
            if never_visible(name):
                raise ScopeError(f"scopes.fields.{kind}", f"{name!r} is never shown to partners")
        granted[kind] = chosen
    allowed = frozenset(send)
    for kind in sorted(allowed):
        if kind not in SENDABLE_TYPES:
            raise ScopeError(
                "scopes.send",
                f"{kind!r} cannot be sent by a partner; choose from {sorted(SENDABLE_TYPES)}",
            )
    return Scopes(read_streams=streams, fields=granted, send=allowed)


def reduce(data: Mapping[str, Any], visible: Iterable[str]) -> dict[str, Any]:
    """Only the visible fields of a payload, and never a field no partner may see."""
    keep = frozenset(visible)
    return {name: value for name, value in data.items() if name in keep and not never_visible(name)}
