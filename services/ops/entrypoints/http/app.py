"""The console's HTTP routes: sign-in, the pages, the event stream and the panels' JSON,
and the operator API passed through to booking as the signed-in operator.

Every ``/ops`` route but sign-in and health needs an operator: the page sends a browser to
sign in, the JSON and event-stream routes answer 401 with problem details. An operator signs
in with their email, password and one-time code (checked by booking, which keeps operators'
accounts); in the development mode the operators' token signs in the bootstrap
administrator. A script may send ``Authorization: Bearer <token>`` (an operator's session
token from booking, or the operators' token) instead of the session cookie.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import Field

from services.ops.adapters.ledger_api import LedgerApi
from services.ops.adapters.notify_figures import NotifyFigures
from services.ops.adapters.operator_api import OperatorApi, SignedIn
from services.ops.entrypoints.http import ledger_pages, pages
from services.ops.entrypoints.http.session import (
    COOKIE,
    LIFETIME,
    new_session,
    operator_cookie,
    operator_token,
    session_valid,
    token_matches,
)
from services.ops.service_layer.console import HISTORY, Console, Shown
from shared import geo
from shared.contracts import utc_now
from shared.http_limits import BodySizeLimit, RateLimited, client_address, enforce, too_many
from shared.observed import EventFilter
from shared.postgres.rate_limits import RateLimiter
from shared.settings import Settings
from shared.sse import event_stream

_MAX_FORM_BYTES = 4096


class NotSignedIn(Exception):
    """The request carries neither a valid session nor the operators' token."""


#: How many neighbourhoods the map draws at most (the most pressed first).
MAP_PLACES = 300
#: The bootstrap administrator's roles: every one (development only).
_EVERY_ROLE = ("administrator", "coordinator", "safeguarding_lead")
#: What may follow ``/ops/api/``: a path of booking's operator API, nothing that climbs out.
_API_PATH = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


def create_app(
    console: Console,
    settings: Settings,
    *,
    ready: asyncio.Event,
    limiter: RateLimiter,
    notify: NotifyFigures | None = None,
    api: OperatorApi,
) -> FastAPI:
    """The console's app over ``console``; ``ready`` says when the feed has its partitions;
    ``limiter`` counts sign-ins in the console's database; ``notify`` holds notify's latest
    figures; ``api`` is booking's operator API, called as the signed-in operator."""
    token = settings.operator_token.get_secret_value() if settings.operator_token else None
    # Operator-only and not a public API: no OpenAPI document or docs pages to hand out.
    app = FastAPI(title="Kith operators", docs_url=None, redoc_url=None, openapi_url=None)
    # Names this process's numbering of events in the ids of its stream (see ``_seq``).
    epoch = secrets.token_hex(4)
    app.add_middleware(BodySizeLimit, max_bytes=settings.http_max_body_bytes)
    app.add_exception_handler(RateLimited, too_many)

    bootstrap = SignedIn("bootstrap", _EVERY_ROLE, token) if token else None

    async def current(request: Request) -> SignedIn | None:
        """Who is signed in: by bearer token, or by the session cookie."""
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            given = bearer[7:].strip()
            if token_matches(token, given):
                return bootstrap
            return await api.who(given) if given else None
        cookie = request.cookies.get(COOKIE)
        theirs = operator_token(cookie)
        if theirs is not None:
            return await api.who(theirs)
        if settings.development and session_valid(token, cookie, utc_now()):
            return bootstrap
        return None

    async def signed_in(request: Request) -> bool:
        return await current(request) is not None

    async def operator(request: Request) -> SignedIn:
        found = await current(request)
        if found is None:
            raise NotSignedIn
        return found

    @app.exception_handler(NotSignedIn)
    async def refuse(_: Request, __: Exception) -> Response:
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Unauthorized",
                "status": 401,
                "detail": "operators only: sign in at /ops/login",
            },
            status_code=401,
            media_type="application/problem+json",
            headers={"WWW-Authenticate": 'Bearer realm="kith-ops"'},
        )

    Operator = Depends(operator)  # noqa: N806 - reads as a marker, like FastAPI's own
    # A default, not Annotated: the dependency is local, and annotations here are strings.
    SignedInAs = Depends(operator)  # noqa: N806

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ops", status_code=303)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # browsers ask; an error in their console helps no one

    @app.get("/ops/health")
    async def health() -> dict[str, Any]:
        """Whether the console reads the streams; no sign-in, and nothing from them."""
        return {"ready": ready.is_set(), "caught_up": console.caught_up, "events": console.seen}

    @app.get("/ops/login")
    async def login_form(request: Request) -> Response:
        if await signed_in(request):
            return RedirectResponse("/ops", status_code=303)
        return pages.respond(pages.login_page(development=_bootstrap_allowed()))

    def _bootstrap_allowed() -> bool:
        return settings.development and token is not None

    @app.post("/ops/login")
    async def login(request: Request) -> Response:
        # Every attempt counts, right or wrong: per address, and for the one operators'
        # account from anywhere (KITH_RATE_OPS_SIGN_IN_*).
        await enforce(
            limiter, settings, "ops_sign_in", address=client_address(request), account="operators"
        )
        body = await request.body()
        development = _bootstrap_allowed()
        if len(body) > _MAX_FORM_BYTES:
            return pages.respond(
                pages.login_page("That is too long.", development=development), status_code=413
            )
        form = parse_qs(body.decode(errors="replace"))

        def field(name: str) -> str:
            return form.get(name, [""])[0].strip()

        if field("token"):
            # The bootstrap administrator: the operators' token, in the development mode.
            given = field("token")
            if not development or not token_matches(token, given):
                return pages.respond(
                    pages.login_page("That token is not right.", development=development),
                    status_code=401,
                )
            assert token is not None  # _bootstrap_allowed is false without one
            value = new_session(token, utc_now())
        else:
            status, answer, retry_after = await api.sign_in(
                field("email"),
                form.get("password", [""])[0],
                field("code"),
                client=client_address(request),
            )
            if status == 429:
                raise RateLimited("too many sign-ins: wait a little", retry_after)
            if status != 201:
                message = (
                    "That email, password and code do not match an operator."
                    if status in (401, 422)
                    else "Kith could not check that just now; try again."
                )
                return pages.respond(
                    pages.login_page(message, development=development),
                    status_code=401 if status in (401, 422) else 503,
                )
            value = operator_cookie(answer["token"])
        response = RedirectResponse("/ops", status_code=303)
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(LIFETIME.total_seconds()),
            path="/ops",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/ops/logout")
    async def logout(request: Request) -> Response:
        theirs = operator_token(request.cookies.get(COOKIE))
        if theirs is not None:
            await api.sign_out(theirs)  # booking ends the session: the token is dead
        response = RedirectResponse("/ops/login", status_code=303)
        response.delete_cookie(COOKIE, path="/ops", httponly=True, samesite="strict")
        return response

    @app.get("/ops")
    async def console_page(request: Request) -> Response:
        if not await signed_in(request):
            return RedirectResponse("/ops/login", status_code=303)
        return pages.respond(pages.console_page())

    @app.get("/ops/act")
    async def act_page(request: Request) -> Response:
        """Where operators act: vetting, concerns, welfare checks, the audit trail."""
        if not await signed_in(request):
            return RedirectResponse("/ops/login", status_code=303)
        return pages.respond(pages.act_page())

    @app.get("/ops/me")
    async def me(who: SignedIn = SignedInAs) -> dict[str, Any]:
        """Who is signed in to the console, and their roles."""
        return {"name": who.name, "roles": list(who.roles)}

    @app.api_route("/ops/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def operator_api(path: str, request: Request, who: SignedIn = SignedInAs) -> Response:
        """Booking's operator API (``/v1/operator/<path>``), called as the signed-in
        operator: booking checks their role and puts the call on its audit trail."""
        if not _API_PATH.match(path):
            return _problem(404, "Not found", "no such operator route")
        if request.method != "GET" and request.headers.get("x-kith-console") != "1":
            # A form on another site cannot set this header (nor send the cookie, which is
            # SameSite=Strict): belt and braces against cross-site requests.
            return _problem(403, "Forbidden", "send X-Kith-Console: 1 with every change")
        try:
            answer = await api.call(
                request.method,
                path,
                who.token,
                params=list(request.query_params.multi_items()),
                body=await request.body() or None,
                idempotency_key=request.headers.get("idempotency-key"),
            )
        except httpx.HTTPError:
            return _problem(502, "Bad gateway", "booking's operator API did not answer")
        headers = {"Cache-Control": "no-store"}
        if answer.disposition:
            headers["Content-Disposition"] = answer.disposition
        return Response(
            answer.body,
            status_code=answer.status,
            media_type=answer.content_type,
            headers=headers,
        )

    @app.get("/ops/events", dependencies=[Operator])
    async def events(
        filters: Annotated[EventFilter, Depends(_filter)],
        after: Annotated[int | None, Query(ge=0, description="Resume after this seq.")] = None,
        last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    ) -> StreamingResponse:
        """Server-sent events: recent events that pass the filters, then each new one."""
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

    @app.get("/ops/events/recent", dependencies=[Operator])
    async def recent(
        filters: Annotated[EventFilter, Depends(_filter)],
        limit: Annotated[int, Query(ge=1, le=HISTORY)] = 200,
    ) -> dict[str, Any]:
        """The latest events that pass the filters, oldest first."""
        return {"events": [shown.view for shown in console.recent(filters, limit=limit)]}

    @app.get("/ops/waiting", dependencies=[Operator])
    async def waiting() -> dict[str, Any]:
        """Requests nobody has taken yet: escalations first, then the longest waiting."""
        return {
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
                for row in console.waiting()
            ]
        }

    @app.get("/ops/map", dependencies=[Operator])
    async def neighbourhood_map() -> dict[str, Any]:
        """Neighbourhoods with people waiting or helpers' hours, the most pressed first, each
        with its hexagon's corners (lat, lng) to draw: no tile service is asked."""
        return {
            "places": [
                {
                    "cell": place.cell,
                    "waiting": place.waiting,
                    "free_hours": place.free_hours,
                    "pressure": place.pressure,
                    "boundary": geo.boundary(place.cell),
                }
                for place in console.places()[:MAP_PLACES]
            ]
        }

    @app.get("/ops/concerns", dependencies=[Operator])
    async def concerns() -> dict[str, Any]:
        """Safeguarding concerns no operator has resolved, the oldest first."""
        return {"concerns": console.concerns()}

    @app.get("/ops/figures", dependencies=[Operator])
    async def figures() -> dict[str, Any]:
        """The live figures, and whether the streams' history has been read yet."""
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

    ledger_pages.install(app, LedgerApi(settings), current, Operator)
    return app


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


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
