"""The HTTP API (FastAPI)."""

from services.booking.entrypoints.http.app import create_app

__all__ = ["create_app"]
