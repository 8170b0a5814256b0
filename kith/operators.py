"""``kith operators add``: make an operator's account straight in booking's database.

The operators' token is the bootstrap administrator only in the development mode, so a
production Kith's first administrator is made here, by whoever may reach booking's database;
every later account is made by an administrator through the API. The account is on the audit
trail as made by ``kith operators add``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from services.booking.adapters.passwords import Argon2Passwords, hasher_for
from services.booking.adapters.unit_of_work import PostgresUnitOfWork
from services.booking.domain.operators import Role, bootstrap
from services.booking.service_layer import operators
from shared.contracts import utc_now
from shared.postgres import connect_pool
from shared.settings import Settings

app = typer.Typer(help="Operators' accounts (the first administrator of a new Kith).")

#: How the command is named on the audit trail.
MADE_BY = "kith operators add"


async def add_operator(
    settings: Settings,
    *,
    email: str,
    name: str,
    roles: frozenset[Role],
    password: str,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Make the account in booking's database (``database_url``, booking's own by default);
    the answer holds its TOTP secret."""
    url = database_url or settings.database_for("booking")
    pool = await connect_pool(url, min_size=1, max_size=1)
    try:
        return await operators.add_operator(
            PostgresUnitOfWork(pool),
            Argon2Passwords(hasher_for(settings)),
            bootstrap(MADE_BY),
            email=email,
            name=name,
            roles=roles,
            password=password,
            now=utc_now(),
        )
    finally:
        await pool.close()


@app.command()
def add(
    email: str = typer.Option(..., help="The operator's email (their sign-in)."),
    name: str = typer.Option(..., help="Their name, as the audit trail shows it."),
    role: list[Role] = typer.Option([Role.ADMINISTRATOR], help="A role (repeat for several)."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="At least 12 characters."
    ),
) -> None:
    """Make an operator's account and print the secret for their authenticator app (once)."""
    if len(password) < 12:
        raise typer.BadParameter("at least 12 characters", param_hint="--password")
    made = asyncio.run(
        add_operator(Settings(), email=email, name=name, roles=frozenset(role), password=password)
    )
    typer.echo(f"operator {made['operator_id']} ({', '.join(made['roles'])})")
    typer.echo(f"TOTP secret: {made['totp_secret']}")
    typer.echo(f"authenticator app address: {made['totp_uri']}")
