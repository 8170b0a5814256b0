"""Notify's small HTTP API, for operators: notices that could not be sent, and counts.

A failed notice is an operator's task ("phone them: their visit tomorrow was cancelled"):
it is listed here by person id and kind only; the operator finds how to reach the person in
booking's operator API. Nothing personal is published, logged or kept by notify.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.notify.adapters.postgres import PostgresStore
from shared.contracts import utc_now
from shared.operator_access import OperatorAccess, operator_dependency
from shared.problems import install_problem_handlers

router = APIRouter(prefix="/v1/operator/notices", tags=["operators"])


def _operators(request: Request) -> OperatorAccess:
    access = request.app.state.operators
    assert isinstance(access, OperatorAccess)
    return access


#: Operators only, each action on the audit trail under their name: the tasks name people.
_operator = operator_dependency("notify", _operators)
#: Figures that name nobody: the operators' console asks for them with the services' key.
_figures = operator_dependency("notify", _operators, service_reads=True)


async def _store(request: Request) -> PostgresStore:
    store = request.app.state.store
    assert isinstance(store, PostgresStore)
    return store


Store = Annotated[PostgresStore, Depends(_store)]


@router.get("/failed", dependencies=[Depends(_operator)])
async def failed(store: Store, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """Notices that could not be sent, newest first: each is a person to reach another way."""
    rows = await store.failed(limit)
    return {
        "items": [
            {
                "event_id": str(row.event_id),
                "person_id": str(row.person_id),
                "channel": row.channel,
                "kind": row.kind,
                "attempts": row.attempts,
                "reason": row.last_error,
                "failed_at": row.failed_at.isoformat(),
                "task": f"reach person {row.person_id} another way: their {row.kind}"
                " notice could not be sent",
            }
            for row in rows
        ]
    }


class Resolved(BaseModel):
    """A failed notice whose person an operator reached another way."""

    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID
    person_id: uuid.UUID
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=64)


@router.post("/failed/resolved", dependencies=[Depends(_operator)], status_code=204)
async def resolved(body: Resolved, store: Store) -> None:
    """Close the task of a failed notice: it leaves ``/failed`` and the open tasks."""
    if not await store.resolve(body.event_id, body.person_id, body.channel, body.kind, utc_now()):
        raise HTTPException(status_code=404, detail="no open task for that notice")


@router.get("/summary", dependencies=[Depends(_figures)])
async def summary(store: Store) -> dict[str, Any]:
    """Per channel, notices sent, failed, pending and retried; and the open operators' tasks
    (what the operators' console shows of notify)."""
    figures = await store.summary()
    return {"channels": figures.channels, "open_tasks": figures.open_tasks}


@router.get("/counts", dependencies=[Depends(_figures)])
async def counts(store: Store) -> dict[str, int]:
    """How many notices are pending, sent, failed and dropped."""
    return await store.counts()


def create_app(store: PostgresStore, operators: OperatorAccess) -> FastAPI:
    """The API over ``store``, open to the operators booking knows (``operators``)."""
    app = FastAPI(title="Kith notify", docs_url="/docs")
    install_problem_handlers(app)
    app.state.store = store
    app.state.operators = operators
    app.include_router(router)
    return app
