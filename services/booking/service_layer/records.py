"""What booking's repository and its use cases hand each other: typed records, and ``Row``
(a row's columns by name) for the queries that have no record yet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.notifications import NotificationPreferences

#: A row as a query returns it, or the columns a write takes: the table's names as keys.
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One link as stored: never its token."""

    link_id: uuid.UUID
    person_id: uuid.UUID
    purpose: str
    email: str | None
    expires_at: datetime
    handed_out: bool
    used: bool


@dataclass(frozen=True, slots=True)
class ContactRow:
    """How notify reaches one person: kept by booking, never put on a topic."""

    person_id: uuid.UUID
    display_name: str
    email: str | None
    phone: str | None
    languages: list[str]
    time_zone: str
    preferences: NotificationPreferences
    push_subscriptions: list[dict[str, str]]
    emergency_contact: dict[str, str | None] | None = None

    def __repr__(self) -> str:
        # An address must never reach a log, even through an error's repr.
        return f"ContactRow({self.person_id}, <redacted>)"


@dataclass(frozen=True, slots=True)
class AssistedSignUp:
    """Who registered a person, and the consent the person gave to it."""

    person_id: uuid.UUID
    operator_id: uuid.UUID | None
    operator: str
    consent_method: str
    consent_given_at: datetime
    needs: list[str]
    registered_at: datetime

    def view(self) -> dict[str, Any]:
        """As operators are shown it (with the person's profile)."""
        return {
            "registered_by": self.operator,
            "registered_at": self.registered_at,
            "consent": {
                "method": self.consent_method,
                "given_at": self.consent_given_at,
                "recorded_by": self.operator,
            },
            "needs": self.needs,
        }
