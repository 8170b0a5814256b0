"""The web app for neighbours and helpers, served from booking's own origin at ``/app/``.

Serving it from the API's origin means the app needs no CORS at all: it calls ``/v1/...`` as
any client would, with a bearer token, and the browser sends nothing on its own (no cookie).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: Where ``npm run build`` in ``web/`` puts the app, in a checkout of the project.
BUILT = Path(__file__).resolve().parents[4] / "web" / "dist"

PATH = "/app"

#: Only the app's own files run and only its own origin is called: a script injected through
#: some text shown on a page could neither run inline nor send anything elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

_NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Kith</title></head><body><main><h1>The web app is not built</h1>
<p>Run <code>make install</code> (it builds <code>web/</code>), then reload this page.</p>
</main></body></html>"""


class AppFiles(StaticFiles):
    """The built files, with the app's security headers and caching that suits each."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        # Vite names each asset by its content's hash: it never changes under its name. The
        # page, the manifest and the service worker must be asked for again to see a new build.
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response


def mount(app: FastAPI, directory: Path) -> None:
    """Serve the app at ``/app/`` (and send ``/`` there), or say how to build it."""

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{PATH}/")

    if (directory / "index.html").is_file():
        app.mount(PATH, AppFiles(directory=directory, html=True), name="web-app")
        return

    @app.get(f"{PATH}/{{path:path}}", include_in_schema=False)
    async def not_built(path: str) -> HTMLResponse:
        return HTMLResponse(_NOT_BUILT, status_code=503)
