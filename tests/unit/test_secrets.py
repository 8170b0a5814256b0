"""No default secrets: outside the development mode a service refuses placeholder or short ones."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from shared.secrets import InsecureSecrets, require_secrets
from shared.settings import Settings

STRONG = secrets.token_urlsafe(32)
DATABASE = f"postgresql://kith:{secrets.token_urlsafe(24)}@db.internal:5432/postgres"


def _settings(**values: object) -> Settings:
    fields: dict[str, object] = {
        "operator_token": STRONG,
        "idempotency_key_secret": secrets.token_urlsafe(32),
        "database_url": DATABASE,
        **values,
    }
    return Settings.model_validate(fields)


def test_strong_secrets_pass_for_every_service() -> None:
    for service in ("booking", "trust", "partners", "ops", "matching"):
        require_secrets(_settings(), service)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"operator_token": "change-me-to-a-long-random-string"}, "KITH_OPERATOR_TOKEN"),
        ({"operator_token": "short"}, "KITH_OPERATOR_TOKEN"),
        ({"operator_token": None}, "KITH_OPERATOR_TOKEN"),
        ({"idempotency_key_secret": None}, "KITH_IDEMPOTENCY_KEY_SECRET"),
        ({"idempotency_key_secret": "x" * 40}, "KITH_IDEMPOTENCY_KEY_SECRET"),
        ({"database_url": "postgresql://kith:change-me@db:5432/postgres"}, "KITH_DATABASE_URL"),
        ({"database_url": "postgresql://kith:kith@db:5432/postgres"}, "KITH_DATABASE_URL"),
        ({"database_url": "postgresql://kith@db:5432/postgres"}, "KITH_DATABASE_URL"),
    ],
)
def test_booking_refuses_a_placeholder_short_or_missing_secret(
    values: dict[str, object], named: str
) -> None:
    with pytest.raises(InsecureSecrets) as refused:
        require_secrets(_settings(**values), "booking")
    assert named in str(refused.value)
    assert "development" in str(refused.value)


def test_the_development_mode_accepts_what_it_generates_or_is_given() -> None:
    settings = _settings(
        development=True, operator_token="short", idempotency_key_secret=None, database_url=None
    )
    require_secrets(settings, "booking")


def test_each_service_needs_only_its_own_secrets() -> None:
    require_secrets(_settings(operator_token=None, idempotency_key_secret=None), "trust")
    require_secrets(_settings(idempotency_key_secret=None), "partners")
    with pytest.raises(InsecureSecrets):
        require_secrets(_settings(operator_token=None), "partners")
    with pytest.raises(InsecureSecrets):
        require_secrets(_settings(operator_token="change-me-please-change-me-please"), "ops")


@pytest.mark.parametrize("service", ["booking", "trust", "partners", "ops"])
def test_a_service_process_with_a_placeholder_secret_exits_saying_what_to_set(
    service: str, tmp_path: Path
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KITH_") and not key.startswith("PG")
    }
    env.update(
        {
            "KITH_KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "KITH_DATABASE_URL": "postgresql://kith:change-me@127.0.0.1:1/postgres",
            "KITH_OPERATOR_TOKEN": "change-me-to-a-long-random-string",
            "KITH_STATE_DIR": str(tmp_path),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "refuses to start" in done.stderr, done.stderr[-2000:]
    expected = "KITH_DATABASE_URL" if service == "trust" else "KITH_OPERATOR_TOKEN"
    assert expected in done.stderr
