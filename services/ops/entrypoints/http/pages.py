"""The console's two HTML pages, and the Content-Security-Policy that guards them.

The pages carry their script and style inline (no build step, no CDN), so the policy allows
exactly those blocks by their SHA-256 hashes and nothing else: text from the streams (a
concern's summary, a name) can never run as script even if it slipped into the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi.responses import HTMLResponse

from shared.contracts.topics import ALL_TOPICS
from shared.observed import stream_of

_BLOCK = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Page:
    """An HTML page with the policy that allows its own inline blocks."""

    html: str
    policy: str


def policy_for(document: str) -> str:
    """A Content-Security-Policy allowing only ``document``'s inline script and style blocks."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _BLOCK.findall(document):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {' '.join(hashes['script']) or 'none'}",
            f"style-src {' '.join(hashes['style']) or 'none'}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


@cache
def _load(name: str) -> str:
    return (resources.files(__package__) / "static" / name).read_text(encoding="utf-8")


@cache
def console_page() -> Page:
    """The console, with the stream names offered in its filter."""
    options = "".join(
        f'<option value="{html.escape(stream_of(topic.name))}"></option>' for topic in ALL_TOPICS
    )
    document = _load("console.html").replace("<!--streams-->", options)
    return Page(document, policy_for(document))


def login_page(message: str = "", *, development: bool = False) -> Page:
    """The sign-in form, with ``message`` (escaped) above it; in the development mode, the
    bootstrap administrator's token form too."""
    notice = f'<p class="notice">{html.escape(message)}</p>' if message else ""
    document = _load("login.html").replace("<!--message-->", notice)
    if development:
        document = document.replace("<!--bootstrap-->", _load("bootstrap.html"))
    return Page(document, policy_for(document))


@cache
def act_page() -> Page:
    """Where operators act: the vetting pipeline, concerns, welfare checks, the audit trail."""
    document = _load("act.html")
    return Page(document, policy_for(document))


def respond(page: Page, *, status_code: int = 200) -> HTMLResponse:
    """The page with its policy and headers that keep it out of caches and frames."""
    return HTMLResponse(
        page.html,
        status_code=status_code,
        headers={
            "Content-Security-Policy": page.policy,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
