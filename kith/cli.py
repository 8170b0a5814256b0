"""``kith``: the one command a user needs."""

from __future__ import annotations

import asyncio

import typer

from kith.bench import app as bench_app
from kith.clock import app as clock_app
from kith.contracts import app as contracts_app
from kith.faults import faults
from kith.kafka_acls import kafka_acls
from kith.openapi import openapi
from kith.operators import app as operators_app
from kith.simulate.command import simulate_command
from kith.supervisor import SERVICES, Supervisor, SupervisorError, parse_replicas
from kith.tail import tail
from shared.messaging.connection import KafkaConnection
from shared.settings import Settings

app = typer.Typer(help="Kith: neighbourhood help, booked in whole hours.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(contracts_app, name="contracts")
app.add_typer(clock_app, name="clock")
app.add_typer(operators_app, name="operators")
app.command("kafka-acls")(kafka_acls)
app.command("tail")(tail)
app.command("faults")(faults)
app.command("simulate")(simulate_command)
app.command("openapi")(openapi)


@app.command()
def up(
    demo: bool = typer.Option(False, "--demo", help="Run the demo once the platform is up."),
    services: str = typer.Option(
        ",".join(SERVICES),
        help="Which services this machine runs (a second machine may run only matching).",
    ),
    replicas: str = typer.Option(
        "",
        help="Processes per service, e.g. booking=2,matching=2 (booking and matching scale).",
    ),
) -> None:
    """Start the broker, the database and the services; Ctrl-C stops everything."""
    settings = Settings()
    try:
        supervisor = Supervisor(
            settings, services=tuple(services.split(",")), replicas=parse_replicas(replicas)
        )
        code = asyncio.run(supervisor.run(demo=demo))
    except SupervisorError as error:
        typer.secho(f"kith: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from error
    raise typer.Exit(code)


@app.command()
def demo(
    api: str = typer.Option("http://127.0.0.1:8000", help="The booking API of a running Kith."),
) -> None:
    """Seed a small neighbourhood and walk it through a whole visit, printing each step."""
    from kith.demo import run_demo

    settings = Settings()
    bootstrap_file = settings.state_dir / "run" / "kafka-bootstrap"
    kafka: KafkaConnection | None = None
    if settings.kafka_bootstrap:
        kafka = KafkaConnection.from_settings(settings)
    elif bootstrap_file.exists():
        kafka = KafkaConnection(bootstrap_file.read_text().strip())
    # The clock `kith up` moves on an all-embedded Kith (the demo moves it to the visit's time).
    embedded = not (settings.kafka_bootstrap or settings.database_url)
    clock_file = settings.clock_file or (settings.state_dir / "clock" if embedded else None)
    asyncio.run(
        run_demo(
            api,
            operator_token=_operator_token(settings),
            kafka=kafka,
            clock_file=clock_file,
        )
    )


def _operator_token(settings: Settings) -> str:
    if settings.operator_token is not None:
        return settings.operator_token.get_secret_value()
    path = settings.state_dir / "operator-token"
    if not path.exists():
        raise typer.BadParameter(
            f"no operator token: set KITH_OPERATOR_TOKEN or start Kith with `kith up` ({path})"
        )
    return path.read_text().strip()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
