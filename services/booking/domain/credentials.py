"""Passwords and bearer tokens: only salted hashes and digests are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """``(salt, hash)`` of a password, with scrypt and a fresh random salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    return salt, hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)


def verify_password(password: str, salt: bytes, expected: bytes) -> bool:
    """Whether ``password`` matches the stored hash, compared in constant time."""
    return hmac.compare_digest(hash_password(password, salt)[1], expected)


def new_token() -> str:
    """A fresh bearer token, shown to its owner once."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What is stored of a token: a stolen table holds no usable token."""
    return hashlib.sha256(token.encode()).digest()
