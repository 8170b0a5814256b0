"""Recognising someone who was suspended or removed when their account was deleted.

Booking keeps, for such a person, only keyed hashes (HMAC-SHA256) of their normalised email
and phone: without the server's secret nobody can test an address against them, and nothing
readable is kept. A sign-up whose email or phone hashes to one of them is held for review.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

#: What operators read on an account held because it matched an erased one.
REVIEW = "matches a removed person's account"
#: The standing kept with the hashes: trust's suspension (removal is a suspension for good),
#: or an account that was itself held for review when it was deleted.
SUSPENDED = "suspended"
HELD_FOR_REVIEW = "held for review"

#: Separates this use of the server secret from its others (idempotency records).
_PURPOSE = b"kith erased contacts v1"


def contact_key(secret: bytes) -> bytes:
    """The key of the contact hashes, derived from a server secret for this purpose only."""
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def normalised_email(email: str) -> str:
    """An email as compared: trimmed and case-folded (sign-in ignores case too)."""
    return email.strip().casefold()


def normalised_phone(phone: str) -> str:
    """A phone as compared: its digits, with a leading ``+`` kept (spaces, dashes and
    brackets are how people write the same number)."""
    digits = "".join(character for character in phone if character.isdigit())
    return f"+{digits}" if phone.strip().startswith("+") else digits


def contact_digests(key: bytes, email: str | None, phone: str | None) -> list[tuple[str, bytes]]:
    """``(kind, digest)`` of an email and phone, each one that is given and not empty."""
    found: list[tuple[str, bytes]] = []
    for kind, value in (
        ("email", normalised_email(email) if email else ""),
        ("phone", normalised_phone(phone) if phone else ""),
    ):
        if value.strip("+"):
            message = f"{kind}:{value}".encode()
            found.append((kind, hmac.new(key, message, hashlib.sha256).digest()))
    return found


def person_digests(key: bytes, person: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """``contact_digests`` of a person's email and contact phone, and of the phone they sign
    in with when it is another number."""
    found = contact_digests(key, person.get("email"), person.get("phone"))
    own = person.get("sign_in_phone")
    if own and normalised_phone(own) != normalised_phone(person.get("phone") or ""):
        found += contact_digests(key, None, own)
    return found
