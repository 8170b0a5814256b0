"""Password hashing with argon2id, off the event loop.

Each hash carries its own parameters (``$argon2id$v=19$m=..,t=..,p=..$salt$hash``), so a
change of parameters in settings is noticed at the next sign-in and the hash is made again.
Hashes from before argon2 (scrypt, converted to ``$scrypt$...`` by migration 010) verify once
and are replaced by an argon2id hash at that sign-in.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.booking.domain.credentials import PasswordCheck
from shared.settings import Settings

#: The scrypt parameters every hash from before argon2 was made with.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SCRYPT_PREFIX = "$scrypt$ln=14,r=8,p=1$"


def hasher_for(settings: Settings) -> PasswordHasher:
    """argon2id with the parameters in settings (never below OWASP's, settings enforce it)."""
    return PasswordHasher(
        time_cost=settings.password_time_cost,
        memory_cost=settings.password_memory_kib,
        parallelism=settings.password_parallelism,
    )


class Argon2Passwords:
    """The ``Passwords`` port over argon2-cffi.

    Hashing takes tens of milliseconds of CPU on purpose: it runs in a worker thread
    (argon2-cffi releases the GIL), so the event loop keeps serving meanwhile.
    """

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password`` with a fresh salt."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def check(self, password: str, stored: str | None) -> PasswordCheck:
        """Whether ``password`` matches ``stored``, and its new hash when it should change.

        ``stored`` is ``None`` for an unknown email: a dummy hash is checked instead, so the
        refusal takes as long as a wrong password and does not tell which emails have an
        account.
        """
        return await asyncio.to_thread(self._check, password, stored)

    def _check(self, password: str, stored: str | None) -> PasswordCheck:
        if stored is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
            self._matches(self._dummy, password)
            return PasswordCheck(matches=False)
        if stored.startswith(_SCRYPT_PREFIX):
            if not _scrypt_matches(stored, password):
                return PasswordCheck(matches=False)
            return PasswordCheck(matches=True, rehashed=self._hasher.hash(password))
        if not self._matches(stored, password):
            return PasswordCheck(matches=False)
        if self._hasher.check_needs_rehash(stored):
            return PasswordCheck(matches=True, rehashed=self._hasher.hash(password))
        return PasswordCheck(matches=True)

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


def _scrypt_matches(stored: str, password: str) -> bool:
    salt_hex, _, hash_hex = stored.removeprefix(_SCRYPT_PREFIX).partition("$")
    try:
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(hash_hex)
    except ValueError:
        return False
    return hmac.compare_digest(hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT), expected)
