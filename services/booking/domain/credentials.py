"""Passwords and bearer tokens: only salted hashes and digests are stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """What checking a password found.

    Attributes:
        matches: Whether the password was right.
        rehashed: A new hash to store in place of the old one (made with older parameters
            or an older algorithm); ``None`` when the stored one is current.
    """

    matches: bool
    rehashed: str | None = None


class Passwords(Protocol):
    """The port that hashes and checks passwords (slow on purpose, never on the event loop)."""

    async def hash(self, password: str) -> str:
        """A new, salted hash of ``password`` that carries its own parameters."""
        ...

    async def check(self, password: str, stored: str | None) -> PasswordCheck:
        """Check ``password`` against ``stored`` (``None``: no such account, same time)."""
        ...


def new_token() -> str:
    """A fresh bearer token, shown to its owner once."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What is stored of a token: a stolen table holds no usable token."""
    return hashlib.sha256(token.encode()).digest()
