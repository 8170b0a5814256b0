"""What deleting an account takes out of the events booking keeps, and who may ask for it.

Booking keeps every event it published in its outbox (to publish them again to a broker that
lost them). An erased person's name and every free text of an event that names them (a
concern's summary, a resolution's reason, a check-in's note, a cancellation's reason) are
replaced there, so that nothing personal of theirs survives in booking's database.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

#: What an erased text reads as where a contract requires some text.
ERASED_TEXT = "[erased]"

#: Payload fields that hold a name or free text written by or about a person.
FREE_TEXT_FIELDS = frozenset(
    {"display_name", "first_name", "partner_reference", "summary", "reason", "note"}
)
#: Of those, the ones a contract lets be null (null says "erased" best).
NULLABLE_TEXT_FIELDS = frozenset({"note"})


class ErasedBy(StrEnum):
    """Who asked for an account to be deleted."""

    SELF = "self"
    OPERATOR = "operator"


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
