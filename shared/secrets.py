"""The secrets a Kith process needs: set in production, generated in the development mode."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

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
    (``require_secrets``), so reaching here without one is a bug.
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


#: What each service must be given outside the development mode: the settings it reads a
#: secret from (``database`` is the password in ``KITH_DATABASE_URL``).
NEEDS: dict[str, frozenset[str]] = {
    "booking": frozenset({"operator_token", "idempotency_key_secret", "database"}),
    "trust": frozenset({"database"}),
    "partners": frozenset({"operator_token", "database"}),
    "ops": frozenset({"operator_token", "database"}),
    "matching": frozenset(),
    "notify": frozenset({"operator_token", "database"}),
    "ledger": frozenset({"operator_token", "database"}),
}
#: The shortest secret accepted: 32 characters of ``secrets.token_urlsafe`` are 190 bits.
MIN_SECRET_CHARS = 32
#: The shortest database password accepted (the server may have its own rules besides).
MIN_DATABASE_PASSWORD_CHARS = 16
#: Words found in placeholders and sample files, never in a generated secret worth its name.
_PLACEHOLDERS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "placeholder",
    "example",
    "secret",
    "password",
    "postgres",
    "kith",
    "xxxx",
)
_ADVICE = (
    "set it to a random value (e.g. `python -c 'import secrets; "
    "print(secrets.token_urlsafe(32))'`, or deploy/make-secrets.py), or, on one machine for "
    "development only, run `kith up` with the embedded PostgreSQL (KITH_DEVELOPMENT)"
)


class InsecureSecrets(SystemExit):
    """A service was started outside the development mode with a missing, placeholder or
    short secret. It is a ``SystemExit``: the process stops with this message and status 1."""

    def __init__(self, service: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{service} refuses to start:\n{lines}\n{_ADVICE}")

    def __str__(self) -> str:
        return str(self.code)


def _weakness(value: str, shortest: int) -> str | None:
    lowered = value.lower()
    if any(word in lowered for word in _PLACEHOLDERS):
        return "is a placeholder"
    if len(value) < shortest:
        return f"is shorter than {shortest} characters"
    if len(set(value)) < 8:
        return "repeats too few characters to be random"
    return None


def require_secrets(settings: Settings, service: str) -> None:
    """Refuse to start ``service`` with a missing, placeholder or short secret.

    The development mode (``KITH_DEVELOPMENT``, set by ``kith up`` with the embedded
    PostgreSQL) generates what is unset and accepts anything given.
    """
    if settings.development:
        return
    needs = NEEDS.get(service, frozenset())
    problems: list[str] = []
    for name in sorted(needs - {"database"}):
        variable = f"KITH_{name.upper()}"
        value = getattr(settings, name)
        if value is None:
            problems.append(f"{variable} is not set")
            continue
        weakness = _weakness(value.get_secret_value(), MIN_SECRET_CHARS)
        if weakness:
            problems.append(f"{variable} {weakness}")
    if "database" in needs:
        problem = _database_problem(settings.database_url)
        if problem:
            problems.append(problem)
    if problems:
        raise InsecureSecrets(service, problems)


def _database_problem(url: str | None) -> str | None:
    if not url:
        return "KITH_DATABASE_URL is not set"
    password = urlsplit(url).password or os.environ.get("PGPASSWORD")
    if not password:
        return "KITH_DATABASE_URL has no password (nor is PGPASSWORD set)"
    weakness = _weakness(password, MIN_DATABASE_PASSWORD_CHARS)
    return f"the password in KITH_DATABASE_URL {weakness}" if weakness else None
