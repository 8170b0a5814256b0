"""What every route needs: the ledger's parts, who is calling, and operators only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.ledger.adapters.communities import CommunityStore
from services.ledger.adapters.queries import LedgerQueries
from services.ledger.adapters.sessions import BookingSessions
from services.ledger.service_layer.ports import LedgerUnitOfWork
from shared.operator_access import OperatorAccess, OperatorCalling, operator_dependency
from shared.unit_of_work import UnitOfWorkStarter

_bearer = HTTPBearer(auto_error=False, description="A booking session token, or the operators'.")


@dataclass(frozen=True)
class Parts:
    """The ledger's parts the routes use, wired in ``bootstrap``."""

    pool: asyncpg.Pool
    start: UnitOfWorkStarter[LedgerUnitOfWork]
    queries: LedgerQueries
    communities: CommunityStore
    sessions: BookingSessions
    operators: OperatorAccess


def _parts(request: Request) -> Parts:
    parts = request.app.state.parts
    assert isinstance(parts, Parts)
    return parts


Ctx = Annotated[Parts, Depends(_parts)]


async def _me(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> uuid.UUID:
    if credentials is None:
        raise HTTPException(401, "sign in with booking (POST /v1/sessions) and send its token")
    person_id = await ctx.sessions.person_of(credentials.credentials)
    if person_id is None:
        raise HTTPException(401, "this token is not signed in (or has expired)")
    return person_id


Me = Annotated[uuid.UUID, Depends(_me)]


def _operators(request: Request) -> OperatorAccess:
    return _parts(request).operators


#: Only operators pass, each action on the audit trail under their name.
_operator = operator_dependency("ledger", _operators)
Operator = Depends(_operator)
#: The operator making the call (``Operator`` on the route itself records it too).
Acting = Annotated[OperatorCalling | None, Depends(_operator)]
