"""Helpers for tests: waiting on a condition with a deadline, never sleeping blindly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from kith.client import ApiError, until
from shared.postgres import ensure_database
from shared.settings import Settings

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float = 60.0,
    interval_s: float = 0.02,
    what: str = "condition",
) -> T:
    """Call ``probe`` until it returns something truthy; fail the test after ``timeout_s``."""
    try:
        return await until(probe, timeout_s, what, every_s=interval_s)
    except ApiError as timed_out:
        raise AssertionError(str(timed_out)) from None


def unbounded_inputs(openapi: dict[str, Any]) -> list[str]:
    """Every string without a length bound and list without an item bound a client may send
    (request bodies and parameters), as ``operation: path.to.field``; empty when all are."""
    schemas = openapi.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(node: Any, where: str, seen: frozenset[str]) -> None:
        if not isinstance(node, dict):
            return
        reference = node.get("$ref")
        if isinstance(reference, str):
            name = reference.rsplit("/", 1)[-1]
            if name not in seen:
                walk(schemas.get(name), where, seen | {name})
            return
        for combined in ("anyOf", "oneOf", "allOf"):
            for option in node.get(combined, []):
                walk(option, where, seen)
        kind = node.get("type")
        if kind == "string" and not (
            "maxLength" in node
            or "enum" in node
            or "const" in node
            or node.get("format") in {"uuid", "date-time", "date"}
        ):
            found.append(where)
        if kind == "array":
            if "maxItems" not in node:
                found.append(where)
            walk(node.get("items"), f"{where}[]", seen)
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.{name}", seen)
        additional = node.get("additionalProperties")
        if isinstance(additional, dict):
            if kind == "object" and "maxProperties" not in node:
                found.append(f"{where}{{}}")
            walk(additional, f"{where}{{}}", seen)

    for path, methods in openapi.get("paths", {}).items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                walk(parameter.get("schema"), f"{label}: {parameter['name']}", frozenset())
            for media in operation.get("requestBody", {}).get("content", {}).values():
                walk(media.get("schema"), f"{label}: body", frozenset())
    return found


async def oversized_chunks(size: int) -> AsyncIterator[bytes]:
    """A JSON body of ``size`` bytes sent in chunks, with no ``Content-Length`` to go by."""
    yield b'{"padding": "'
    left = size - len(b'{"padding": ""}')
    while left > 0:
        step = min(left, 16_384)
        yield b"x" * step
        left -= step
    yield b'"}'


async def new_database(settings: Settings, prefix: str) -> str:
    """The URL of a database of its own on the test's server, created empty."""
    url = settings.database_for(f"{prefix}_{uuid.uuid4().hex[:8]}")
    await ensure_database(url)
    return url
