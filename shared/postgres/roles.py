"""Least privilege in PostgreSQL: each service connects as its own role, owning its database.

``kith_booking`` owns the database ``kith_booking`` and can connect to no other service's
database: ``CONNECT`` on each service database is revoked from ``PUBLIC``, so a role that does
not own a database cannot open it (only its owner and superusers can). ``kith up`` provisions
these roles on the embedded PostgreSQL with passwords generated into the state folder;
``deploy/postgres/init-roles.sh`` does the same on a production server.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from shared.secrets import state_secret

#: The services that own a database.
DATABASE_SERVICES = ("booking", "trust", "partners", "ops", "notify", "ledger")


def role_for(service: str) -> str:
    """The role (and database) name of ``service``."""
    return f"kith_{service}"


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


async def provision(admin_url: str, *, role: str, database: str, password: str) -> None:
    """Create (or update) ``role`` with ``password`` and ``database`` owned by it, closed to
    every other role that is not a superuser. Idempotent: safe on every start."""
    admin = await asyncpg.connect(admin_url)
    try:
        quoted_role, quoted_db = _identifier(role), _identifier(database)
        # The password is a literal in DDL (no parameters there): it is generated, and any
        # quote in it is doubled.
        literal = "'" + password.replace("'", "''") + "'"
        if await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await admin.execute(f"ALTER ROLE {quoted_role} LOGIN PASSWORD {literal}")
        else:
            await admin.execute(
                f"CREATE ROLE {quoted_role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
                f" PASSWORD {literal}"
            )
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            # A database made before roles (by a superuser) passes to its service's role,
            # with every table, sequence and type in it.
            await admin.execute(f"ALTER DATABASE {quoted_db} OWNER TO {quoted_role}")
            await _reassign_objects(admin_url, database, role)
        else:
            await admin.execute(f"CREATE DATABASE {quoted_db} OWNER {quoted_role}")
        await admin.execute(f"REVOKE ALL ON DATABASE {quoted_db} FROM PUBLIC")
    finally:
        await admin.close()


async def _reassign_objects(admin_url: str, database: str, role: str) -> None:
    """Give ``role`` the schema and everything in it a superuser created (migrations run
    before roles existed); REASSIGN OWNED cannot move the bootstrap superuser's objects."""
    inside = await asyncpg.connect(urlunsplit(urlsplit(admin_url)._replace(path=f"/{database}")))
    try:
        quoted = _identifier(role)
        await inside.execute(f"ALTER SCHEMA public OWNER TO {quoted}")
        rows = await inside.fetch(
            "SELECT c.relname, c.relkind::text AS relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            " AND pg_get_userbyid(c.relowner) <> $1"
            # A sequence owned by a column moves with its table.
            " AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d"
            "   WHERE d.objid = c.oid AND d.deptype = 'a'))",
            role,
        )
        kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
        for row in rows:
            name = row["relname"].replace('"', '""')
            await inside.execute(f'ALTER {kinds[row["relkind"]]} "{name}" OWNER TO {quoted}')
        functions = await inside.fetch(
            "SELECT p.oid::regprocedure::text AS signature FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1",
            role,
        )
        for row in functions:
            await inside.execute(f"ALTER ROUTINE {row['signature']} OWNER TO {quoted}")
    finally:
        await inside.close()


def service_url(server_url: str, *, role: str, password: str) -> str:
    """``server_url`` with ``role`` and ``password`` as its credentials (database ``postgres``;
    each service then opens its own database by name)."""
    parts = urlsplit(server_url)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path="/postgres"))


async def embedded_service_urls(admin_url: str, state_dir: Path) -> dict[str, str]:
    """Provision every database service's role on the embedded PostgreSQL, each with a
    password generated once into ``state_dir`` (readable by its owner only); their URLs."""
    urls = {}
    for service in DATABASE_SERVICES:
        role = role_for(service)
        password = state_secret(state_dir, f"postgres-{service}-password")
        await provision(admin_url, role=role, database=role, password=password)
        urls[service] = service_url(admin_url, role=role, password=password)
    return urls
