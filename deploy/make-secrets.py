#!/usr/bin/env python3
"""Generate Kith's production secrets, once, into files git ignores.

    python deploy/make-secrets.py --database-host kith-postgres-rw.postgres.svc:5432

writes ``deploy/.env`` (read by ``docker compose``: the PostgreSQL password, the operators'
token and the idempotency key secret) and ``deploy/k8s/secrets.env`` (read by the
Kustomization's ``secretGenerator`` as the Secret ``kith-secrets``), each readable by its
owner only. An existing file is never overwritten: rotating a secret is a decision, not a
side effect. Give PostgreSQL's ``kith`` user the password printed for Kubernetes.

Only the standard library is used, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The services with a Kafka user of their own (shared/contracts/topics.py SERVICE_ACCESS).
KAFKA_USERS = ("BOOKING", "MATCHING", "TRUST", "OPS", "PARTNERS", "NOTIFY")
#: The services with a database and a PostgreSQL role of their own (shared/postgres/roles.py).
DATABASE_ROLES = ("BOOKING", "TRUST", "PARTNERS", "OPS", "NOTIFY")


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: refuse to replace secrets already in use; 0600: nobody else reads them.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


def main() -> int:
    """Write both files; exit 1, writing nothing, when either exists."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", type=Path, default=HERE, help="the deploy/ folder")
    parser.add_argument(
        "--database-host",
        default="kith-postgres-rw.postgres.svc:5432",
        help="host:port of PostgreSQL for Kubernetes (compose uses its own `postgres`)",
    )
    options = parser.parse_args()
    compose, k8s = options.into / ".env", options.into / "k8s" / "secrets.env"
    for path in (compose, k8s):
        if path.exists():
            print(f"{path} exists: remove it first to make new secrets", file=sys.stderr)
            return 1
    token = lambda: secrets.token_urlsafe(32)  # noqa: E731 - 190 random bits each
    database_password = token()
    _write(
        compose,
        [
            "# Made by deploy/make-secrets.py; keep it out of git and backups you share.",
            f"POSTGRES_PASSWORD={database_password}",
            f"OPERATOR_TOKEN={token()}",
            f"IDEMPOTENCY_KEY_SECRET={token()}",
            # Kafka: the brokers' admin, and one SCRAM user per service (deploy/kafka/acls.sh).
            f"KAFKA_ADMIN_PASSWORD={token()}",
            *(f"KAFKA_PASSWORD_{name}={token()}" for name in KAFKA_USERS),
            # PostgreSQL: each service's own role (deploy/postgres/init-roles.sh).
            *(f"POSTGRES_PASSWORD_{name}={token()}" for name in DATABASE_ROLES),
        ],
    )
    _write(
        k8s,
        [
            "# Made by deploy/make-secrets.py: the Secret kith-secrets (secretGenerator).",
            f"KITH_OPERATOR_TOKEN={token()}",
            f"KITH_IDEMPOTENCY_KEY_SECRET={token()}",
            "KITH_DATABASE_URL=postgresql://kith:"
            f"{database_password}@{options.database_host}/postgres",
        ],
    )
    print(f"wrote {compose} and {k8s}")
    print("give PostgreSQL's `kith` user the password in KITH_DATABASE_URL of the second file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
