"""The gateway's HTTP API: operators manage partners; partners send and read back."""

from services.partners.entrypoints.http.app import create_app

__all__ = ["create_app"]
