"""The argon2id adapter: checks, rehashes and the scrypt hashes from before it."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher

from services.booking.adapters.passwords import Argon2Passwords

OWASP = PasswordHasher(memory_cost=19 * 1024, time_cost=2, parallelism=1)


async def test_a_hash_checks_its_own_password_only_and_is_salted() -> None:
    passwords = Argon2Passwords(OWASP)
    stored = await passwords.hash("correct horse")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (await passwords.check("correct horse", stored)).matches
    assert not (await passwords.check("wrong horse!", stored)).matches
    assert await passwords.hash("correct horse") != stored
    assert (await passwords.check("correct horse", stored)).rehashed is None


async def test_stronger_parameters_rehash_and_an_unknown_account_never_matches() -> None:
    stored = await Argon2Passwords(OWASP).hash("correct horse")
    stronger = Argon2Passwords(PasswordHasher(memory_cost=19 * 1024, time_cost=3, parallelism=1))
    checked = await stronger.check("correct horse", stored)
    assert checked.matches
    assert checked.rehashed is not None
    assert ",t=3," in checked.rehashed
    assert not (await stronger.check("correct horse", None)).matches
    assert not (await stronger.check("correct horse", "not a hash")).matches


async def test_a_scrypt_hash_from_before_argon2_verifies_and_asks_for_a_rehash() -> None:
    salt = bytes(range(16))
    old = hashlib.scrypt(b"correct horse", salt=salt, n=2**14, r=8, p=1, dklen=32)
    # As migration 010a writes the two old columns into one.
    stored = f"$scrypt$ln=14,r=8,p=1${salt.hex()}${old.hex()}"
    passwords = Argon2Passwords(OWASP)
    assert not (await passwords.check("wrong horse!", stored)).matches
    checked = await passwords.check("correct horse", stored)
    assert checked.matches
    assert checked.rehashed is not None
    assert checked.rehashed.startswith("$argon2id$")
