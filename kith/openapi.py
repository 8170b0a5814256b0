"""``kith openapi``: a service's OpenAPI document, written without starting anything.

The web app's typed clients are generated from the committed ``web/openapi.json`` (booking)
and ``web/ledger-openapi.json`` (the ledger, which the app reaches through booking's
``/ledger/`` path); a unit test fails when either no longer matches its API, so a changed
API breaks the build.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

#: Where the web app reads booking's document from.
WEB_DOCUMENT = Path("web") / "openapi.json"
#: Where the web app reads the ledger's document from.
LEDGER_DOCUMENT = Path("web") / "ledger-openapi.json"


class Service(StrEnum):
    """The services whose API the web app calls."""

    BOOKING = "booking"
    LEDGER = "ledger"


def render(document: dict[str, Any]) -> str:
    """The document as committed: sorted keys, so a diff shows only what changed."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def document_of(service: Service) -> dict[str, Any]:
    """A service's OpenAPI document."""
    if service is Service.LEDGER:
        from services.ledger.entrypoints.http.app import api_document as ledger_document

        return ledger_document()
    from services.booking.entrypoints.http.app import api_document

    return api_document()


def openapi(
    path: Path | None = typer.Argument(
        None, help="Where to write the document (default: the web app's copy)."
    ),
    service: Service = typer.Option(Service.BOOKING, help="Whose API."),
) -> None:
    """Write a service's OpenAPI document (the web app's clients are generated from them)."""
    target = path or (LEDGER_DOCUMENT if service is Service.LEDGER else WEB_DOCUMENT)
    target.write_text(render(document_of(service)), encoding="utf-8")
    typer.echo(f"wrote {target}")
