"""Helpers for tests: waiting on a condition with a deadline, never sleeping blindly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from kith.client import ApiError, until

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float = 20.0,
    interval_s: float = 0.02,
    what: str = "condition",
) -> T:
    """Call ``probe`` until it returns something truthy; fail the test after ``timeout_s``."""
    try:
        return await until(probe, timeout_s, what, every_s=interval_s)
    except ApiError as timed_out:
        raise AssertionError(str(timed_out)) from None
