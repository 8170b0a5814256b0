"""The session cache remembers valid tokens for a while, and only so many."""

from __future__ import annotations

import uuid

from services.booking.adapters.session_cache import (
    SessionCache,
    person_signed_out,
    token_signed_out,
)


def test_a_token_seen_valid_is_remembered() -> None:
    cache = SessionCache()
    person = uuid.uuid4()
    cache.put(b"token", person, asked_at=cache.sign_outs)
    assert cache.get(b"token") == person
    assert cache.get(b"another") is None


def test_a_token_is_forgotten_once_its_time_is_up() -> None:
    cache = SessionCache(ttl_s=0.0)
    cache.put(b"token", uuid.uuid4(), asked_at=cache.sign_outs)
    assert cache.get(b"token") is None


def test_the_oldest_token_is_forgotten_first_when_full() -> None:
    cache = SessionCache(size=2)
    first, second, third = (uuid.uuid4() for _ in range(3))
    cache.put(b"first", first, asked_at=cache.sign_outs)
    cache.put(b"second", second, asked_at=cache.sign_outs)
    cache.put(b"first", first, asked_at=cache.sign_outs)  # seen again: now the newest
    cache.put(b"third", third, asked_at=cache.sign_outs)
    assert cache.get(b"second") is None
    assert cache.get(b"first") == first
    assert cache.get(b"third") == third


def test_signed_out_tokens_and_people_are_forgotten() -> None:
    cache = SessionCache()
    ada, bob = uuid.uuid4(), uuid.uuid4()
    cache.put(b"ada-phone", ada, asked_at=cache.sign_outs)
    cache.put(b"ada-laptop", ada, asked_at=cache.sign_outs)
    cache.put(b"bob-phone", bob, asked_at=cache.sign_outs)

    cache.signed_out(token_signed_out(b"ada-phone"))
    assert cache.get(b"ada-phone") is None
    assert cache.get(b"ada-laptop") == ada

    cache.signed_out(person_signed_out(ada))
    assert cache.get(b"ada-laptop") is None
    assert cache.get(b"bob-phone") == bob


def test_a_sign_out_it_cannot_read_forgets_every_token() -> None:
    cache = SessionCache()
    cache.put(b"token", uuid.uuid4(), asked_at=cache.sign_outs)
    cache.signed_out("token:not-hex")
    assert cache.get(b"token") is None


def test_an_answer_asked_for_before_a_sign_out_is_not_remembered() -> None:
    cache = SessionCache()
    asked_at = cache.sign_outs  # the database is asked; meanwhile the token is signed out
    cache.signed_out(token_signed_out(b"token"))
    cache.put(b"token", uuid.uuid4(), asked_at=asked_at)
    assert cache.get(b"token") is None


def test_a_token_is_not_remembered_past_its_own_expiry() -> None:
    cache = SessionCache(ttl_s=60.0)
    cache.put(b"token", uuid.uuid4(), asked_at=cache.sign_outs, valid_for_s=0.0)
    assert cache.get(b"token") is None
