"""``Idempotency-Key`` on every POST that creates something.

The first answer to a key is stored per caller, key and route in the transaction that makes
the change, so a retry gets the same status and body and nothing is created twice. A retry
racing the first attempt waits on the key's primary key until the first commits, then
replays it. A refusal (4xx) rolls the key back with everything else, so it may be retried.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json

from services.booking.domain.errors import Invalid
from services.booking.entrypoints.http.dependencies import Context

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
        description="Any unique string: a retry with the same key returns the first answer "
        "and creates nothing twice. The same key with a different body is a 422.",
    ),
]


def _json(result: Any) -> bytes:
    # pydantic's encoder, as FastAPI uses for every other route (UTC written as ``Z``).
    return to_json(result)


async def idempotent(
    ctx: Context,
    request: Request,
    caller: uuid.UUID,
    key: str | None,
    body: BaseModel | None,
    status: int,
    create: Callable[[], Awaitable[Any]],
) -> Response:
    """Run ``create`` once per key; return (or replay) its JSON answer with ``status``."""
    if key is None:
        return Response(_json(await create()), status_code=status, media_type="application/json")
    digest = hashlib.sha256(body.model_dump_json().encode() if body is not None else b"").digest()
    route = f"{request.method} {request.url.path}"
    async with ctx.uow.outer() as repo:
        stored = await repo.claim_idempotency_key(caller, key, route, digest)
        if stored is not None:
            if stored["body_digest"] != digest:
                raise Invalid("Idempotency-Key", "was used before with a different request body")
            return Response(
                stored["response"].encode(),
                status_code=stored["status"],
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        content = _json(await create())
        await repo.save_idempotent_response(caller, key, route, status, content.decode())
    return Response(content, status_code=status, media_type="application/json")
