"""The console's ledger page: each community's pot, the approvals waiting, and the
reconciliation with every difference listed. Rendered on the server from the ledger's
operators' API (no script); approving or refusing is a plain form."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from services.ops.adapters.ledger_api import LedgerApi, LedgerUnavailable
from services.ops.adapters.operator_api import SignedIn
from services.ops.entrypoints.http.pages import Page, policy_for, respond

_STYLE = """<style>
body { font: 15px/1.4 system-ui, sans-serif; background: #f4f2ee; color: #222; margin: 0; }
main { max-width: 60rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem;
  border-radius: 10px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; }
.bad { color: #a33; font-weight: 600; } .good { color: #2f6f5e; font-weight: 600; }
button { padding: .3rem .8rem; font: inherit; border: 0; border-radius: 6px;
  background: #2f6f5e; color: #fff; cursor: pointer; } button.refuse { background: #8a3b3b; }
a { color: #2f6f5e; }
</style>"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _rows(items: list[str]) -> str:
    return "".join(items)


def _partner_form(communities: list[dict[str, Any]]) -> str:
    """A form placing a partner's referred visits in a community (or back by their cell)."""
    options = "".join(
        f'<option value="{_e(c["community_id"])}">{_e(c["community_id"])}</option>'
        for c in communities
    )
    return (
        "<h2>A partner's community</h2><p>Visits that come through a partner's referral"
        " follow its community's rules; a partner in none follows each visit's"
        ' neighbourhood.</p><form method="post" action="/ops/ledger/partners">'
        '<p><label for="partner_id">Partner id</label> <input id="partner_id"'
        ' name="partner_id" required pattern="[0-9a-fA-F-]{36}" size="38"></p>'
        '<p><label for="community_id">Community</label> <select id="community_id"'
        f' name="community_id"><option value="">by neighbourhood</option>{options}</select>'
        " <button>Save</button></p></form>"
    )


def render(overview: dict[str, Any] | None, problem: str = "") -> str:
    """The page's HTML."""
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Kith · operators · hours and money</title>",
        _STYLE,
        '</head><body><main><p><a href="/ops">← the console</a></p>',
        "<h1>Hours and money: the ledger</h1>",
    ]
    if overview is None:
        parts.append(f'<p class="bad" role="alert">{_e(problem)}</p></main></body></html>')
        return "".join(parts)
    parts.append("<h2>Communities and their pots</h2><table><thead><tr><th scope=col>community")
    parts.append("<th scope=col>modes<th scope=col>cells<th scope=col>partners")
    parts.append("<th scope=col>pot (hours)<th scope=col>given<th scope=col>drawn</tr>")
    parts.append("</thead><tbody>")
    parts.append(
        _rows(
            [
                f"<tr><td>{_e(c['community_id'])}<td>{_e(', '.join(c['modes']) or 'none')}"
                f"<td>{len(c['cells'])}<td>{_e(', '.join(c.get('partners', [])) or 'none')}"
                f"<td>{_e(c['pot']['hours'])}<td>{_e(c['pot']['given'])}"
                f"<td>{_e(c['pot']['drawn'])}</tr>"
                for c in overview["communities"]
            ]
        )
    )
    parts.append("</tbody></table>")
    parts.append(_partner_form(overview["communities"]))
    parts.append("<h2>Approvals waiting</h2>")
    if not overview["approvals"]:
        parts.append("<p>No request is waiting to be covered from a pot.</p>")
    else:
        parts.append("<table><thead><tr><th scope=col>request<th scope=col>neighbour")
        parts.append("<th scope=col>community<th scope=col>asked<th scope=col>decide</tr>")
        parts.append("</thead><tbody>")
        for item in overview["approvals"]:
            action = f"/ops/ledger/pot-requests/{_e(item['request_id'])}"
            parts.append(
                f"<tr><td>{_e(item['request_id'])}<td>{_e(item['neighbour_id'])}"
                f"<td>{_e(item['community_id'])}<td>{_e(item['created_at'])}"
                f'<td><form method="post" action="{action}">'
                '<button name="decision" value="approve">Approve</button> '
                '<button class="refuse" name="decision" value="refuse">Refuse</button>'
                "</form></tr>"
            )
        parts.append("</tbody></table>")
    rec = overview["reconciliation"]
    verdict = (
        '<p class="good">The ledger agrees with completed visits and the provider.</p>'
        if rec["agrees"]
        else f'<p class="bad">{len(rec["differences"])} differences.</p>'
    )
    visits = rec["visits"]
    parts.append(f"<h2>Reconciliation since {_e(rec['since'])}</h2>{verdict}")
    parts.append(
        f"<p>Completed visits: {_e(visits['completed'])} ({_e(visits['completed_hours'])} h);"
        f" posted: {_e(visits['posted'])}; not posted by their community's rule:"
        f" {_e(visits['not_posted_by_rule'])}. Payouts posted: {_e(rec['payouts']['ledger'])};"
        f" at the provider: {_e(rec['payouts']['provider'])}. Sum of entries per unit:"
        f" {_e(rec['trial_balance'])}.</p>"
    )
    if rec["differences"]:
        parts.append("<table><thead><tr><th scope=col>difference<th scope=col>what</tr></thead>")
        parts.append("<tbody>")
        for difference in rec["differences"]:
            rest = ", ".join(f"{k}: {v}" for k, v in difference.items() if k != "kind")
            parts.append(f"<tr><td>{_e(difference['kind'])}<td>{_e(rest)}</tr>")
        parts.append("</tbody></table>")
    parts.append("</main></body></html>")
    return "".join(parts)


def install(
    app: FastAPI,
    api: LedgerApi,
    current: Callable[[Request], Awaitable[SignedIn | None]],
    operator: Any,
) -> None:
    """Add the ledger page (``/ops/ledger``), its JSON (``/ops/ledger.json``) and the targets
    of its forms (approvals, a partner's community) to the console."""

    @app.get("/ops/ledger")
    async def ledger_page(request: Request) -> Response:
        who = await current(request)
        if who is None:
            return RedirectResponse("/ops/login", status_code=303)
        try:
            document = render(await api.overview(who.token))
        except LedgerUnavailable as error:
            document = render(None, str(error))
        return respond(Page(document, policy_for(document)))

    @app.get("/ops/ledger.json")
    async def ledger_json(who: SignedIn = operator) -> dict[str, Any]:
        """The pots, the approvals waiting and the reconciliation, as the page shows them."""
        return await api.overview(who.token)

    @app.post("/ops/ledger/partners")
    async def partner_community(request: Request, who: SignedIn = operator) -> Response:
        form = parse_qs((await request.body())[:1024].decode(errors="replace"))
        partner = form.get("partner_id", [""])[0].strip()
        community = form.get("community_id", [""])[0]
        try:
            partner_id = uuid.UUID(partner)
        except ValueError:
            return Response("partner_id: not a partner's id", status_code=422)
        if community and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", community):
            return Response("community_id: not a community's name", status_code=422)
        try:
            await api.set_partner_community(who.token, str(partner_id), community or None)
        except LedgerUnavailable as error:
            document = render(None, str(error))
            return respond(Page(document, policy_for(document)), status_code=409)
        return RedirectResponse("/ops/ledger", status_code=303)

    @app.post("/ops/ledger/pot-requests/{request_id}")
    async def decide(request_id: uuid.UUID, request: Request, who: SignedIn = operator) -> Response:
        body = (await request.body())[:1024].decode(errors="replace")
        decision = parse_qs(body).get("decision", [""])[0]
        if not re.fullmatch(r"approve|refuse", decision):
            return Response("decision: approve or refuse", status_code=422)
        try:
            await api.decide(who.token, str(request_id), decision)
        except LedgerUnavailable as error:
            document = render(None, str(error))
            return respond(Page(document, policy_for(document)), status_code=409)
        return RedirectResponse("/ops/ledger", status_code=303)
