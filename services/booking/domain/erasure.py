"""Who may ask for an account to be deleted.

What an erasure takes out of a kept event is a contract's matter, shared with the other
services that keep copies: ``shared.contracts.redaction``.
"""

from __future__ import annotations

from enum import StrEnum


class ErasedBy(StrEnum):
    """Who asked for an account to be deleted."""

    SELF = "self"
    OPERATOR = "operator"
