"""``Idempotency-Key`` on every POST that creates something.

The first answer to a key is stored per caller, key and route in the transaction that makes
the change, so a retry gets the same status and body and nothing is created twice. A retry
racing the first attempt waits on the key's primary key until the first commits, then
replays it. A refusal (4xx) rolls the key back with everything else, so it may be retried.

Nothing secret is kept: the body is remembered only as an HMAC under a server secret (a
sign-in's body holds a password, and an unkeyed digest of it could be guessed back), an
answer holding a secret is stored without it and made again on a replay (``Replay``), and a
record expires after ``idempotency_ttl_s``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json

from services.booking.domain.errors import Invalid
from services.booking.entrypoints.http.dependencies import Context
from shared.contracts import utc_now

#: Whose keys sign-up and sign-in use: there is no caller yet.
ANONYMOUS = uuid.UUID(int=0)
#: Whose keys the operators' routes use (one role, one key space).
OPERATORS = uuid.UUID(int=1)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string: a retry with the same key within a day returns the "
        "first answer and creates nothing twice. The same key with a different body is a 422.",
    ),
]


@dataclass(frozen=True, slots=True)
class Replay:
    """How an answer that holds a secret is stored and answered again.

    Attributes:
        keep: The part of the answer that may be stored (no token, no password).
        again: Makes the answer to a retry from what was kept (a fresh token, say).
    """

    keep: Callable[[Any], Any]
    again: Callable[[Any], Awaitable[Any]]


def _json(result: Any) -> bytes:
    # pydantic's encoder, as FastAPI uses for every other route (UTC written as ``Z``).
    return to_json(result)


def body_digest(secret: bytes, route: str, body: BaseModel | None) -> bytes:
    """The keyed hash a request body is remembered by."""
    content = body.model_dump_json().encode() if body is not None else b""
    return hmac.new(secret, route.encode() + b"\n" + content, hashlib.sha256).digest()


async def idempotent(
    ctx: Context,
    request: Request,
    caller: uuid.UUID,
    key: str | None,
    body: BaseModel | None,
    status: int,
    create: Callable[[], Awaitable[Any]],
    replay: Replay | None = None,
) -> Response:
    """Run ``create`` once per key; return (or replay) its JSON answer with ``status``."""
    if key is None:
        return Response(_json(await create()), status_code=status, media_type="application/json")
    route = f"{request.method} {request.url.path}"
    digest = body_digest(ctx.idempotency_secret, route, body)
    now = utc_now()
    expired_before = now - timedelta(seconds=ctx.settings.idempotency_ttl_s)
    async with ctx.uow.outer() as repo:
        stored = await repo.claim_idempotency_key(caller, key, route, digest, now, expired_before)
        if stored is not None:
            if not hmac.compare_digest(stored["body_digest"], digest):
                raise Invalid("Idempotency-Key", "was used before with a different request body")
            content = stored["response"].encode()
            if replay is not None:
                content = _json(await replay.again(json.loads(content)))
            return Response(
                content,
                status_code=stored["status"],
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        answer = await create()
        content = _json(answer)
        kept = content if replay is None else _json(replay.keep(answer))
        await repo.save_idempotent_response(caller, key, route, status, kept.decode())
    return Response(content, status_code=status, media_type="application/json")
