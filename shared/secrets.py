"""The secrets a Kith process needs: set in production, generated in the development mode."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from shared.settings import Settings


def state_secret(state_dir: Path, name: str) -> str:
    """The secret kept in ``state_dir/name``, made on first use (readable by its owner only).

    Every process of one ``kith up`` shares the state folder, so they all get the same value,
    and it survives restarts like the data it protects.
    """
    path = state_dir / name
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting together must not each write a different secret.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def configured_or_generated(settings: Settings, value: SecretStr | None, name: str) -> str:
    """``value`` when set; in the development mode, the one generated into ``state_dir``.

    Outside the development mode an unset secret is refused at start-up
    (``shared.startup.require_secrets``), so reaching here without one is a bug.
    """
    if value is not None:
        return value.get_secret_value()
    if not settings.development:
        raise RuntimeError(f"{name} is not set (KITH_{name.upper().replace('-', '_')})")
    return state_secret(settings.state_dir, name)


def idempotency_key_secret(settings: Settings) -> bytes:
    """The key of the HMAC kept of each idempotent request's body."""
    return configured_or_generated(
        settings, settings.idempotency_key_secret, "idempotency-key-secret"
    ).encode()
