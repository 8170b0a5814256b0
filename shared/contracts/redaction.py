"""What deleting an account takes out of a stored copy of an event that names the person.

Services keep copies of events: booking's outbox (to publish them again to a broker that lost
them), the partners gateway's webhook queue. Once a person is erased, each copy that names
them loses every name and free text (a concern's summary, a resolution's reason, a check-in's
note, a cancellation's reason); ids and the rest stay, so the copy still reads under its
released contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

#: What an erased text reads as where a contract requires some text.
ERASED_TEXT = "[erased]"

#: Payload fields that hold a name or free text written by or about a person.
FREE_TEXT_FIELDS = frozenset(
    {"display_name", "first_name", "partner_reference", "summary", "reason", "note"}
)
#: Of those, the ones a contract lets be null (null says "erased" best).
NULLABLE_TEXT_FIELDS = frozenset({"note"})

#: Payload fields that name a person.
PERSON_FIELDS = frozenset(
    {"person_id", "helper_id", "neighbour_id", "author_id", "about_id", "raised_by_id"}
)


def redacted(data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's payload with every name and free text replaced; the rest as it was.

    The result still satisfies the event's contract: a required text becomes
    ``ERASED_TEXT``, a nullable one ``None``.
    """
    result = dict(data)
    for name in FREE_TEXT_FIELDS & result.keys():
        if result[name] is None:
            continue
        result[name] = None if name in NULLABLE_TEXT_FIELDS else ERASED_TEXT
    return result


def people_named(data: Mapping[str, Any]) -> set[str]:
    """The ids of the people a payload (as JSON data) names."""
    return {str(data[name]) for name in PERSON_FIELDS & data.keys() if data[name] is not None}


def redacted_document(
    raw: bytes | str, redact: Callable[[Mapping[str, Any]], dict[str, Any]] = redacted
) -> bytes | None:
    """A stored event document (an outbox's envelope, a webhook's body) with its ``data``
    passed through ``redact``, as compact JSON; ``None`` when that changes nothing (the copy
    stays as it is)."""
    document = json.loads(raw)
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        return None
    cleaned = redact(data)
    if cleaned == data:
        return None
    document["data"] = cleaned
    return json.dumps(document, separators=(",", ":")).encode()
