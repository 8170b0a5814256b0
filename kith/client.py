"""A few calls on Kith's booking API, shared by the demo, the benchmarks and the e2e tests."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


class ApiError(RuntimeError):
    """The API refused a call, or something awaited did not happen in time."""


def bearer(token: str) -> dict[str, str]:
    """The header that authenticates as the holder of ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def send(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
    json: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call the API and return its JSON body; ``ApiError`` with the problem on 4xx/5xx."""
    response = await http.request(method, path, headers=headers, json=json)
    if response.status_code >= 400:
        raise ApiError(f"{method} {path} answered {response.status_code}: {response.text}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def until(
    probe: Callable[[], Awaitable[T | None]], timeout_s: float, what: str, *, every_s: float = 0.02
) -> T:
    """Call ``probe`` until it returns something truthy; ``ApiError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise ApiError(f"gave up after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(every_s)


def percentile(ordered: list[float], percent: float) -> float:
    """The ``percent``-th percentile of sorted figures (0 for none)."""
    if not ordered:
        return 0.0
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(percent) - 1]
