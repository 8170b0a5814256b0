"""What the console reads from the streams, live: the event stream and the panels' JSON.

Operators only: each route answers 401 with problem details to anyone not signed in.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field

from services.ops.entrypoints.http.context import Ctx, Operator, problem
from services.ops.service_layer.console import HISTORY, Shown
from shared import geo
from shared.observed import EventFilter
from shared.sse import event_stream

#: How many neighbourhoods the map draws at most (the most pressed first).
MAP_PLACES = 300
#: How many people waiting one answer lists at most.
WAITING_SHOWN = 2000

router = APIRouter()


@router.get("/ops/events", dependencies=[Operator])
async def events(
    ctx: Ctx,
    filters: Annotated[EventFilter, Depends(_filter)],
    after: Annotated[int | None, Query(ge=0, description="Resume after this seq.")] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Server-sent events: recent events that pass the filters, then each new one."""
    console, epoch = ctx.console, ctx.epoch
    resume = after if after is not None else _seq(last_event_id, epoch)
    # Subscribe and read the history with no await in between: nothing falls in a gap.
    subscription = console.subscribe(filters)
    backlog = console.recent(
        filters, after=resume or 0, limit=HISTORY if resume is not None else 200
    )
    last = max((shown.seq for shown in backlog), default=0)

    def newer(item: Shown) -> str | None:
        # Events already sent from the backlog may be queued as well.
        nonlocal last
        if item.seq <= last:
            return None
        last = item.seq
        return _frame(item, epoch)

    return event_stream(
        subscription.queue,
        newer,
        first=[_frame(shown, epoch) for shown in backlog],
        on_close=lambda: console.unsubscribe(subscription),
    )


@router.get("/ops/events/recent", dependencies=[Operator])
async def recent(
    ctx: Ctx,
    filters: Annotated[EventFilter, Depends(_filter)],
    limit: Annotated[int, Query(ge=1, le=HISTORY)] = 200,
) -> dict[str, Any]:
    """The latest events that pass the filters, oldest first."""
    return {"events": [shown.view for shown in ctx.console.recent(filters, limit=limit)]}


@router.get("/ops/waiting", dependencies=[Operator], response_model=None)
async def waiting(
    ctx: Ctx,
    neighbourhood: Annotated[
        str | None, Query(max_length=20, description="Only those waiting in this H3 cell.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=WAITING_SHOWN)] = 200,
) -> dict[str, Any] | JSONResponse:
    """Requests nobody has taken yet: escalations first, then the longest waiting.

    ``total`` and ``escalated`` count everyone waiting (in the neighbourhood), so that a list
    cut at ``limit`` says how many it leaves out.
    """
    if neighbourhood is not None and not geo.is_neighbourhood(neighbourhood):
        return problem(
            422,
            "Validation failed",
            f"{neighbourhood} is not a neighbourhood cell (H3, resolution 7)",
        )
    everyone = ctx.console.waiting(neighbourhood=neighbourhood)
    return {
        "total": len(everyone),
        "escalated": sum(1 for row in everyone if row.status == "escalated"),
        "waiting": [
            {
                "request_id": row.request_id,
                "neighbour_id": row.neighbour_id,
                "neighbourhood": row.neighbourhood,
                "skill": row.skill,
                "starts_at": row.starts_at,
                "hours": row.hours,
                "waiting_s": round(row.waiting_s, 1),
                "rounds": row.rounds,
                "tried": [{"helper_id": h, "declined": d} for h, d in row.tried],
                "status": row.status,
                "reason": row.reason,
            }
            for row in everyone[:limit]
        ],
    }


@router.get("/ops/map", dependencies=[Operator])
async def neighbourhood_map(ctx: Ctx) -> dict[str, Any]:
    """Neighbourhoods with people waiting or helpers' hours, the most pressed first, each
    with its hexagon's corners (lat, lng) to draw: no tile service is asked. ``total`` counts
    them all, drawn or not."""
    everywhere = ctx.console.places()
    return {
        "total": len(everywhere),
        "places": [
            {
                "cell": place.cell,
                "waiting": place.waiting,
                "free_hours": place.free_hours,
                "pressure": place.pressure,
                "boundary": geo.boundary(place.cell),
            }
            for place in everywhere[:MAP_PLACES]
        ],
    }


@router.get("/ops/concerns", dependencies=[Operator])
async def concerns(ctx: Ctx) -> dict[str, Any]:
    """Safeguarding concerns no operator has resolved, the oldest first."""
    return {"concerns": ctx.console.concerns()}


@router.get("/ops/figures", dependencies=[Operator])
async def figures(ctx: Ctx) -> dict[str, Any]:
    """The live figures, and whether the streams' history has been read yet."""
    console, notify = ctx.console, ctx.notify
    current = console.figures()
    return {
        "requests_per_hour": current.requests_per_hour,
        "share_matched": current.share_matched,
        "matched": current.matched,
        "unmatched": current.unmatched,
        "median_time_to_match_s": current.median_time_to_match_s,
        "continuity": current.continuity,
        "recurring_visits": current.recurring_visits,
        "with_regular": current.with_regular,
        "hours": {
            "helpers": current.hours.helpers,
            "p10": current.hours.p10,
            "p50": current.hours.p50,
            "p90": current.hours.p90,
            "most": current.hours.most,
            "gini": current.hours.gini,
            "histogram": current.hours.histogram,
        },
        "waiting": current.waiting,
        "escalated": current.escalated,
        "open_concerns": current.open_concerns,
        "caught_up": console.caught_up,
        "events_seen": console.seen,
        # Per channel sent/failed/retried/pending and open tasks; null: notify unknown.
        "notify": notify.latest if notify is not None else None,
    }


#: One filter value (it may hold a comma list), bounded like every input a client sends.
FilterValue = Annotated[str, Field(max_length=500)]


async def _filter(
    stream: Annotated[
        list[FilterValue] | None, Query(max_length=20, description="Stream names or topics.")
    ] = None,
    type: Annotated[
        list[FilterValue] | None, Query(max_length=20, description="Event types; `*` wildcards.")
    ] = None,
    neighbourhood: Annotated[str | None, Query(max_length=20, description="An H3 cell.")] = None,
    person: Annotated[
        str | None, Query(max_length=36, description="A person's id or its start.")
    ] = None,
) -> EventFilter:
    """The event filter from query parameters (each may repeat or hold a comma list)."""
    return EventFilter.of(
        streams=stream or (), types=type or (), place=neighbourhood, person=person
    )


def _seq(last_event_id: str | None, epoch: str) -> int | None:
    """Where a reconnecting browser resumes: after its last seq if this process numbered it.

    Another console process (this one restarted, or a second one behind a balancer) read the
    streams in its own order, so its seqs mean nothing here: the browser gets the whole kept
    history again and drops what it already shows by event id. Resuming at the old number
    skipped events (``kith faults --scenario ops_kill``).
    """
    if last_event_id is None:
        return None
    seen_epoch, _, seq = last_event_id.partition("-")
    if seen_epoch != epoch or not seq.isdigit():
        return 0
    return int(seq)


def _frame(shown: Shown, epoch: str) -> str:
    """One server-sent event, its id this process's epoch and the event's seq."""
    return f"id: {epoch}-{shown.seq}\ndata: {json.dumps(shown.view, separators=(',', ':'))}\n\n"
