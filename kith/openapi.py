"""``kith openapi``: booking's OpenAPI document, written without starting anything.

The web app's typed client is generated from the committed ``web/openapi.json``; a unit test
fails when that file no longer matches the API, so a changed API breaks the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

#: Where the web app reads the document from.
WEB_DOCUMENT = Path("web") / "openapi.json"


def render(document: dict[str, Any]) -> str:
    """The document as committed: sorted keys, so a diff shows only what changed."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def openapi(
    path: Path = typer.Argument(WEB_DOCUMENT, help="Where to write the document."),
) -> None:
    """Write booking's OpenAPI document (the web app's client is generated from it)."""
    from services.booking.entrypoints.http.app import api_document

    path.write_text(render(api_document()), encoding="utf-8")
    typer.echo(f"wrote {path}")
