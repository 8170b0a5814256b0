#!/usr/bin/env bash
# Runs once, when the compose PostgreSQL is first initialised (/docker-entrypoint-initdb.d):
# each service gets its own login role owning its own database, and no other role (bar the
# `kith` superuser that administers the server) may connect to it. The same as
# shared/postgres/roles.py does on the embedded PostgreSQL.
set -euo pipefail
for service in booking trust partners ops notify ledger; do
  variable="POSTGRES_PASSWORD_${service^^}"
  password="${!variable:?set $variable in deploy/.env}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="kith_${service}" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
