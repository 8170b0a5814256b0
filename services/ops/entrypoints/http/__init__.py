"""The console's HTTP server: sign-in, the page, server-sent events and the panels' JSON."""

from services.ops.entrypoints.http.app import create_app

__all__ = ["create_app"]
