"""The hashes booking keeps of an erased suspended person's contacts."""

from __future__ import annotations

from services.booking.domain.rejoining import contact_digests, contact_key, person_digests

KEY = contact_key(b"a server secret of enough length for a test")


def test_the_same_email_and_phone_written_otherwise_hash_alike() -> None:
    first = contact_digests(KEY, "Rex.Jones@Example.org ", "+44 7700 900123")
    again = contact_digests(KEY, "rex.jones@example.org", "+44 (0)7700-900123".replace("(0)", ""))
    assert first == again
    assert [kind for kind, _ in first] == ["email", "phone"]


def test_another_key_or_another_contact_hashes_otherwise() -> None:
    other_key = contact_key(b"another server secret of enough length")
    (email,) = contact_digests(KEY, "rex@example.org", None)
    assert contact_digests(other_key, "rex@example.org", None) != [email]
    assert contact_digests(KEY, "rex2@example.org", None) != [email]
    # A phone's digits are not an email's: the kind is part of what is hashed.
    assert contact_digests(KEY, None, "12345")[0][1] != contact_digests(KEY, "12345", None)[0][1]


def test_nothing_readable_and_nothing_for_an_empty_phone() -> None:
    digests = contact_digests(KEY, "rex@example.org", "  ")
    assert len(digests) == 1
    assert b"rex" not in digests[0][1]
    assert len(digests[0][1]) == 32


def test_a_phone_signed_in_with_is_recognised_as_well_as_the_contact_phone() -> None:
    person = {"email": None, "phone": "+44 20 7946 0000", "sign_in_phone": "+447700900123"}
    kept = person_digests(KEY, person)
    assert contact_digests(KEY, None, "+447700900123")[0] in kept
    assert contact_digests(KEY, None, "+442079460000")[0] in kept
    # The same number as contact and sign-in phone is kept once.
    same = person_digests(KEY, {**person, "phone": "+44 7700 900123"})
    assert same == contact_digests(KEY, None, "+447700900123")
