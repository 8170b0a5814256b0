#!/usr/bin/env python3
"""Generate Kith's production secrets, once, into files git ignores.

    python deploy/make-secrets.py --database-host kith-postgres-rw.postgres.svc:5432

writes ``deploy/.env`` (read by ``docker compose``: the PostgreSQL passwords, the operators'
token, the idempotency key secret and the Kafka passwords) and, for Kubernetes, one file per
service in ``deploy/k8s/secrets/`` (``booking.env``...: the Kustomization's ``secretGenerator``
makes each the Secret ``kith-<service>``) holding only what that service needs, plus
``admin.env`` for the Jobs that create the Kafka users and the PostgreSQL roles. Every file is
readable by its owner only, and both sets hold the same values. An existing file is never
overwritten: rotating a secret is a decision, not a side effect. Give PostgreSQL's ``kith``
user the password in ``POSTGRES_ADMIN_URL`` of ``admin.env``.

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
KAFKA_USERS = ("BOOKING", "MATCHING", "TRUST", "OPS", "PARTNERS", "NOTIFY", "LEDGER")
#: The services with a database and a PostgreSQL role of their own (shared/postgres/roles.py).
DATABASE_ROLES = ("BOOKING", "TRUST", "PARTNERS", "OPS", "NOTIFY", "LEDGER")
#: The shared secrets each service reads (shared/secrets.py NEEDS; its database URL aside).
SHARED_NEEDS = {
    "BOOKING": ("OPERATOR_TOKEN", "IDEMPOTENCY_KEY_SECRET"),
    "MATCHING": (),
    "TRUST": (),
    "OPS": ("OPERATOR_TOKEN",),
    "PARTNERS": ("OPERATOR_TOKEN",),
    "NOTIFY": ("OPERATOR_TOKEN",),
    "LEDGER": ("OPERATOR_TOKEN",),
}


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: refuse to replace secrets already in use; 0600: nobody else reads them.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


def _service_file(name: str, values: dict[str, str], database_host: str) -> list[str]:
    """One service's Secret: its Kafka user, its own database role, the shared secrets it
    reads, and nothing else."""
    lines = [
        f"# Made by deploy/make-secrets.py: the Secret kith-{name.lower()} (secretGenerator).",
        f"KITH_KAFKA_SASL_USERNAME=kith-{name.lower()}",
        f"KITH_KAFKA_SASL_PASSWORD={values[f'KAFKA_PASSWORD_{name}']}",
        *(f"KITH_{secret}={values[secret]}" for secret in SHARED_NEEDS[name]),
    ]
    if name in DATABASE_ROLES:
        password = values[f"POSTGRES_PASSWORD_{name}"]
        lines.append(
            f"KITH_DATABASE_URL=postgresql://kith_{name.lower()}:{password}@{database_host}/postgres"
        )
    return lines


def main() -> int:
    """Write every file; exit 1, writing nothing, when any exists."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", type=Path, default=HERE, help="the deploy/ folder")
    parser.add_argument(
        "--database-host",
        default="kith-postgres-rw.postgres.svc:5432",
        help="host:port of PostgreSQL for Kubernetes (compose uses its own `postgres`)",
    )
    options = parser.parse_args()
    compose, k8s = options.into / ".env", options.into / "k8s" / "secrets"
    service_files = {name: k8s / f"{name.lower()}.env" for name in KAFKA_USERS}
    admin = k8s / "admin.env"
    for path in (compose, admin, *service_files.values()):
        if path.exists():
            print(f"{path} exists: remove it first to make new secrets", file=sys.stderr)
            return 1
    token = lambda: secrets.token_urlsafe(32)  # noqa: E731 - 190 random bits each
    values = {
        "POSTGRES_PASSWORD": token(),
        "OPERATOR_TOKEN": token(),
        "IDEMPOTENCY_KEY_SECRET": token(),
        # Kafka: the brokers' admin, and one SCRAM user per service (deploy/kafka/acls.sh).
        "KAFKA_ADMIN_PASSWORD": token(),
        **{f"KAFKA_PASSWORD_{name}": token() for name in KAFKA_USERS},
        # PostgreSQL: each service's own role (deploy/postgres/init-roles.sh).
        **{f"POSTGRES_PASSWORD_{name}": token() for name in DATABASE_ROLES},
    }
    header = "# Made by deploy/make-secrets.py; keep it out of git and backups you share."
    _write(compose, [header, *(f"{name}={value}" for name, value in values.items())])
    for name, path in service_files.items():
        _write(path, _service_file(name, values, options.database_host))
    # The Jobs kith-topics and kith-access: the Kafka admin, every service's Kafka password
    # (acls.sh sets them), every role's password, and the server's administrator.
    _write(
        admin,
        [
            "# Made by deploy/make-secrets.py: the Secret kith-admin (secretGenerator).",
            *(
                f"{n}={v}"
                for n, v in values.items()
                if n.startswith(("KAFKA_", "POSTGRES_PASSWORD_"))
            ),
            "POSTGRES_ADMIN_URL=postgresql://kith:"
            f"{values['POSTGRES_PASSWORD']}@{options.database_host}/postgres",
        ],
    )
    print(f"wrote {compose} and {k8s}/")
    print(f"give PostgreSQL's `kith` user the password in POSTGRES_ADMIN_URL of {admin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
