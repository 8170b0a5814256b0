"""The session cache remembers valid tokens for a while, and only so many."""

from __future__ import annotations

import uuid

from services.booking.adapters.session_cache import SessionCache


def test_a_token_seen_valid_is_remembered() -> None:
    cache = SessionCache()
    person = uuid.uuid4()
    cache.put(b"token", person)
    assert cache.get(b"token") == person
    assert cache.get(b"another") is None


def test_a_token_is_forgotten_once_its_time_is_up() -> None:
    cache = SessionCache(ttl_s=0.0)
    cache.put(b"token", uuid.uuid4())
    assert cache.get(b"token") is None


def test_the_oldest_token_is_forgotten_first_when_full() -> None:
    cache = SessionCache(size=2)
    first, second, third = (uuid.uuid4() for _ in range(3))
    cache.put(b"first", first)
    cache.put(b"second", second)
    cache.put(b"first", first)  # seen again: now the newest
    cache.put(b"third", third)
    assert cache.get(b"second") is None
    assert cache.get(b"first") == first
    assert cache.get(b"third") == third
