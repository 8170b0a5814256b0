"""The web app is served from booking's own origin, and its API client is generated from a
committed OpenAPI document that must match the API."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from kith.openapi import WEB_DOCUMENT, render
from services.booking.entrypoints.http import web_app
from services.booking.entrypoints.http.app import api_document

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_openapi_document_matches_the_api() -> None:
    committed = (ROOT / WEB_DOCUMENT).read_text(encoding="utf-8")
    assert committed == render(api_document()), (
        "web/openapi.json is stale: run `.venv/bin/kith openapi` and rebuild the web app"
    )


def _app(directory: Path) -> FastAPI:
    app = FastAPI()
    web_app.mount(app, directory)
    return app


async def test_the_built_app_is_served_at_app_with_its_security_headers(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Kith</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    transport = httpx.ASGITransport(app=_app(tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://kith") as http:
        root = await http.get("/")
        page = await http.get("/app/")
        asset = await http.get("/app/assets/index-abc.js")
        missing = await http.get("/app/nothing-here.js")

    assert root.status_code == 307
    assert root.headers["location"] == "/app/"
    assert page.status_code == 200
    assert "<title>Kith</title>" in page.text
    assert page.headers["content-security-policy"] == web_app.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-cache"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert missing.status_code == 404


async def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=_app(tmp_path / "absent"))
    async with httpx.AsyncClient(transport=transport, base_url="http://kith") as http:
        page = await http.get("/app/")

    assert page.status_code == 503
    assert "make install" in page.text


def test_the_api_document_names_no_web_app_route() -> None:
    assert not any(path.startswith("/app") or path == "/" for path in api_document()["paths"])
