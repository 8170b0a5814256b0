"""``kith simulate``: a synthetic neighbourhood's weeks through the real processes, and the
figures that say whether Kith held up.

Not part of ``make test`` (twelve weeks take minutes); ``tests/e2e/test_simulate.py`` runs two
weeks of a smaller neighbourhood through the same code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import typer
from rich.console import Console
from rich.table import Table

from kith.seeding import Api
from kith.simulate.life import Life
from kith.simulate.metrics import FIGURES
from kith.simulate.stack import sim_stack
from kith.simulate.world import day_zero_after, plan_world
from shared import clock


@dataclass(frozen=True)
class Options:
    """The size and the seed of one run."""

    weeks: int = 12
    seed: int = 1
    helpers: int = 12
    neighbours: int = 16


async def simulate(
    options: Options,
    folder: Path,
    *,
    bootstrap: str | None = None,
    database_url: str | None = None,
    say: Any = None,
) -> dict[str, Any]:
    """Start a Kith of its own under ``folder`` (on a given broker and database, if any), live
    ``options.weeks`` of a neighbourhood through it, and return the report.
    """
    async with sim_stack(folder, bootstrap=bootstrap, database_url=database_url) as stack:
        world = plan_world(
            options.seed,
            options.weeks,
            day_zero_after(clock.now()),
            helpers=options.helpers,
            neighbours=options.neighbours,
        )
        api = Api(stack.api, concurrency=16)
        try:
            life = Life(stack, api, world, say=say or (lambda _: None))
            return await life.live()
        finally:
            await api.close()


def simulate_command(
    weeks: int = typer.Option(12, min=1, max=52, help="Weeks of the neighbourhood's life."),
    seed: int = typer.Option(1, help="Seed of the world and of everyone's choices."),
    helpers: int = typer.Option(12, min=1, max=200, help="Helpers (two arrive during the run)."),
    neighbours: int = typer.Option(16, min=1, max=400, help="Neighbours asking for help."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    keep: bool = typer.Option(False, help="Keep the run's folder (logs, data)."),
) -> None:
    """Run a synthetic neighbourhood through Kith's real processes for many weeks of moved time."""
    _log_to_stderr()
    err = Console(stderr=True, highlight=False)
    folder = Path(tempfile.mkdtemp(prefix="kith-simulate-"))
    options = Options(weeks=weeks, seed=seed, helpers=helpers, neighbours=neighbours)
    try:
        report = asyncio.run(simulate(options, folder, say=lambda line: err.print(f"  {line}")))
    finally:
        if keep:
            err.print(f"kept {folder}")
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    if json_out:
        typer.echo(json.dumps(report, default=str))
    else:
        out = Console()
        print_report(report, out if out.is_terminal else Console(width=150))
    if not all(target["met"] for target in report["targets"].values()):
        raise typer.Exit(1)
    if not report.get("hours", {}).get("balanced_every_week", True):
        raise typer.Exit(1)


_COLUMNS = (
    ("asked", "asked"),
    ("withdrawn", "withdrawn"),
    ("eligible", "eligible"),
    ("served", "served"),
    ("served_share", "share"),
    ("served_by_regular", "by regular"),
    ("told_operators", "told ops"),
    ("stranded", "stranded"),
    ("helper_cancelled", "helper cancelled"),
    ("refilled_after_cancel", "refilled"),
    ("no_shows", "no-shows"),
    ("left_open", "left open"),
    ("safeguarding_violations", "violations"),
)


def print_report(report: dict[str, Any], out: Console) -> None:
    """The per-week table, the totals, and each target."""
    table = Table(title=f"kith simulate: {len(report['weeks'])} weeks")
    table.add_column("week", justify="right")
    for _, heading in _COLUMNS:
        table.add_column(heading, justify="right")
    for week in report["weeks"]:
        table.add_row(str(week["week"]), *(_cell(week[key]) for key, _ in _COLUMNS))
    table.add_row("all", *(_cell(report[key]) for key, _ in _COLUMNS), style="bold")
    out.print(table)
    for name, target in report["targets"].items():
        mark = "[green]met[/]" if target["met"] else "[red]not met[/]"
        out.print(f"  {name}: {target['value']} (target {target['target']}) {mark}")
    if report.get("unserved_causes"):
        out.print(f"  eligible but not served, by first cause: {report['unserved_causes']}")
    for reason, count in (report.get("unserved_why") or {}).items():
        out.print(f"    {count} x {reason}")
    if report.get("refused"):
        out.print(f"  refused by the API: {report['refused']}")
    out.print(f"  features: {report['features']}")
    if report.get("hours"):
        print_hours(report["hours"], out)


def print_hours(hours: dict[str, Any], out: Console) -> None:
    """How the weeks' hours were paid for, and whether the ledger balanced each week."""
    table = Table(title="how the hours were paid for (the ledger)")
    columns = ("hours_given", "hours_received", "hours_gifted", "hours_from_pot", "hours_paid")
    table.add_column("week", justify="right")
    for column in (*columns, "money_paid", "balanced"):
        table.add_column(column.replace("_", " "), justify="right")
    for week in hours["weeks"]:
        table.add_row(
            str(week["week"]),
            *(_cell(week[column]) for column in columns),
            ", ".join(f"{v / 100:.2f} {k}" for k, v in week["money_paid"].items()) or "-",
            "yes" if week["balanced"] else "[red]no[/]",
        )
    out.print(table)
    out.print(f"  the ledger balanced every week: {hours['balanced_every_week']}")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _log_to_stderr() -> None:
    """Keep structured logs off stdout, where ``--json`` prints."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))


__all__ = ["FIGURES", "Options", "print_report", "simulate", "simulate_command"]
