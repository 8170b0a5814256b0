"""Operators assign or re-offer a waiting request, choosing among the helpers matching says
may take it.

Eligibility is matching's (availability, weekly caps, distance, trust's pair blocks and
suspensions): booking asks it (``candidates.asked``), keeps its answer, and passes on the
helper an operator chose (``offer.directed``). Matching offers the request to that helper as
an ordinary offer, which they accept or decline in their app, or refuses and says why
(``offer.direction_refused``, kept with the direction). A re-offer asks matching for the
request again, as a reinstatement does: it is matched from a fresh round.

Only a request that is waiting may be touched: open (matching is offering it) or unmatched
(escalated to operators). A re-offer needs an escalated one: an open request is still in
matching's rounds, and asking for it again then would be taken for an ask that overtook a
booking.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.booking.domain.errors import Conflict, Invalid, NotFound
from services.booking.domain.languages import language_codes
from services.booking.domain.partners import PersonKind
from services.booking.domain.visits import RequestStatus
from services.booking.service_layer.ports import Repository, UnitOfWork
from services.booking.service_layer.records import Row
from services.booking.service_layer.requests import help_requested
from shared.contracts import Envelope
from shared.contracts.candidates import CandidatesAsked, OfferDirected

PRODUCER = "booking"
#: Requests an operator may ask candidates for, or direct to a helper.
WAITING = frozenset({RequestStatus.OPEN.value, RequestStatus.UNMATCHED.value})


async def _waiting(repo: Repository, request_id: uuid.UUID, allowed: frozenset[str]) -> Row:
    """The request, locked, when it is in one of ``allowed``; else a 404 or a 409."""
    row = await repo.request(request_id, lock=True)
    if row is None:
        raise NotFound("no such request")
    if row["status"] not in allowed:
        raise Conflict(
            f"this request is {row['status']}: only a waiting request"
            f" ({' or '.join(sorted(allowed))}) may be assigned or offered again"
        )
    return row


async def _fields(repo: Repository, row: Row) -> dict[str, Any]:
    """What matching decides the request by, as a ``help.requested`` carries it."""
    neighbour = await repo.person(row["neighbour_id"])
    languages = language_codes(neighbour["languages"]) if neighbour is not None else []
    return help_requested(row, languages).model_dump()


async def ask_candidates(
    uow: UnitOfWork, request_id: uuid.UUID, asked_by: str, now: datetime
) -> dict[str, Any]:
    """Ask matching who could take the request; its answer arrives with ``candidates``."""
    query_id = uuid.uuid4()
    async with uow.begin() as repo:
        row = await _waiting(repo, request_id, WAITING)
        asked = CandidatesAsked(query_id=query_id, **await _fields(repo, row))
        await repo.add_candidate_query(query_id, request_id, asked_by, now)
        await repo.publish([Envelope.wrap(asked, producer=PRODUCER)])
    return {"query_id": query_id, "request_id": request_id, "status": "asked"}


async def candidates(uow: UnitOfWork, request_id: uuid.UUID) -> dict[str, Any]:
    """The request's latest question and matching's answer (``answered`` false until it
    comes), each helper with their name, and the offers operators directed for it."""
    async with uow.read() as repo:
        row = await repo.request(request_id)
        if row is None:
            raise NotFound("no such request")
        query = await repo.latest_candidate_query(request_id)
        directions = await repo.directions_of(request_id)
        ids = {uuid.UUID(str(c["helper_id"])) for c in _answered(query, "candidates")}
        ids |= {uuid.UUID(str(p["helper_id"])) for p in _answered(query, "passed_over")}
        ids |= {d["helper_id"] for d in directions}
        names = await repo.display_names(sorted(ids))

    def name(helper_id: object) -> str | None:
        return names.get(uuid.UUID(str(helper_id)))

    return {
        "request_id": request_id,
        "status": row["status"],
        "query": None
        if query is None
        else {
            "query_id": query["query_id"],
            "asked_by": query["asked_by"],
            "asked_at": query["asked_at"],
            "answered": query["answered_at"] is not None,
            "answered_at": query["answered_at"],
        },
        "candidates": [
            {**c, "display_name": name(c["helper_id"])} for c in _answered(query, "candidates")
        ],
        "passed_over": [
            {**p, "display_name": name(p["helper_id"])} for p in _answered(query, "passed_over")
        ],
        "directions": [
            {
                "direction_id": d["direction_id"],
                "helper_id": d["helper_id"],
                "display_name": names.get(d["helper_id"]),
                "directed_by": d["directed_by"],
                "directed_at": d["directed_at"],
                "refused_reason": d["refused_reason"],
                "offer_id": d["offer_id"],
                "offer_status": d["offer_status"],
            }
            for d in directions
        ],
    }


def _answered(query: Row | None, part: str) -> list[dict[str, Any]]:
    if query is None or query[part] is None:
        return []
    found: list[dict[str, Any]] = query[part]
    return found


async def assign(
    uow: UnitOfWork, request_id: uuid.UUID, helper_id: uuid.UUID, directed_by: str, now: datetime
) -> dict[str, Any]:
    """Ask matching to offer the request to ``helper_id`` alone; it refuses a helper it may
    not offer it to, and says why (``candidates`` shows it with the direction)."""
    direction_id = uuid.uuid4()
    async with uow.begin() as repo:
        row = await _waiting(repo, request_id, WAITING)
        helper = await repo.person(helper_id)
        if helper is None or helper["kind"] == PersonKind.ERASED:
            raise Invalid("helper_id", "no such helper")
        if helper_id == row["neighbour_id"]:
            raise Invalid("helper_id", "is the neighbour who asked")
        directed = OfferDirected(
            direction_id=direction_id, helper_id=helper_id, **await _fields(repo, row)
        )
        await repo.add_direction(direction_id, request_id, helper_id, directed_by, now)
        await repo.publish([Envelope.wrap(directed, producer=PRODUCER)])
    return {
        "direction_id": direction_id,
        "request_id": request_id,
        "helper_id": helper_id,
        "display_name": helper["display_name"],
        "status": "sent to matching",
    }


async def reoffer(uow: UnitOfWork, request_id: uuid.UUID) -> dict[str, Any]:
    """Ask matching for an escalated request again: it is matched from a fresh round, with
    everyone who may take it (those who let it go before may be free now)."""
    unmatched = frozenset({RequestStatus.UNMATCHED.value})
    async with uow.begin() as repo:
        row = await _waiting(repo, request_id, unmatched)
        fields = await _fields(repo, row)
        await repo.set_request_status(request_id, RequestStatus.OPEN)
        await repo.publish(
            [Envelope.wrap(help_requested(row, fields["languages"]), producer=PRODUCER)]
        )
    return {"request_id": request_id, "status": RequestStatus.OPEN.value}
