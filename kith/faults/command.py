"""``kith faults``: run the fault scenarios against real processes and print their figures.

Not part of ``make test`` (the full run takes minutes); ``tests/e2e/test_faults.py`` runs a
short version of some scenarios through the same code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
import typer
from rich.console import Console
from rich.table import Table

from kith.faults.result import ScenarioResult
from kith.faults.scenarios import SCENARIOS, Options

_SCENARIO_HELP = f"Run only these (repeatable): {', '.join(SCENARIOS)}."


def faults(
    scenario: list[str] = typer.Option([], "--scenario", help=_SCENARIO_HELP),
    bookings: int = typer.Option(5000, min=1, max=100_000, help="relay_kill: bookings made."),
    kills: int = typer.Option(
        5,
        min=0,
        max=50,
        help=(
            "relay_kill, ledger_kill, notify_kill (at most 5), booking_kill, trust_kill: times"
            " the victim is killed."
        ),
    ),
    visits: int = typer.Option(
        2000, min=1, max=100_000, help="ledger_kill, ledger_replay: visits completed."
    ),
    flow_visits: int = typer.Option(
        300,
        min=10,
        max=500,
        help="booking_kill, trust_kill, crash_anywhere: visits made (partners_kill: referrals).",
    ),
    notices: int = typer.Option(
        1000, min=2, max=100_000, help="notify_kill: notices due while notify is killed."
    ),
    requests: int = typer.Option(600, min=10, max=20_000, help="matcher_kill: requests posted."),
    rate: float = typer.Option(20.0, min=1, max=500, help="matcher_kill: requests per second."),
    seed: int = typer.Option(7, help="Seed of the random moments of each kill."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    keep: bool = typer.Option(
        False, help="Keep each scenario's folder (logs, data); a failed one keeps its logs anyway."
    ),
) -> None:
    """Kill and restart Kith's processes and broker, poison its topics; count what was lost."""
    unknown = sorted(set(scenario) - set(SCENARIOS))
    if unknown:
        raise typer.BadParameter(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    _log_to_stderr()
    options = Options(
        bookings=bookings,
        kills=kills,
        requests=requests,
        rate=rate,
        seed=seed,
        visits=visits,
        flow_visits=flow_visits,
        notices=notices,
    )
    chosen = [name for name in SCENARIOS if not scenario or name in scenario]
    try:
        results = asyncio.run(_run_all(chosen, options, keep=keep))
    except asyncio.CancelledError:
        typer.echo("kith faults: stopped (SIGTERM); every scenario's processes stopped", err=True)
        raise typer.Exit(128 + signal.SIGTERM) from None
    if json_out:
        typer.echo(json.dumps({name: result.as_json() for name, result in results.items()}))
    else:
        _print_table(results)
    if not all(result.clean for result in results.values()):
        raise typer.Exit(1)


async def _run_all(names: list[str], options: Options, *, keep: bool) -> dict[str, ScenarioResult]:
    # SIGTERM (a timeout, a cancelled job) ends the run as Ctrl-C does: the running scenario
    # is cancelled, and its cleanup stops its services, broker and database. Left to the
    # default, the command died at once and they ran on, orphaned.
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    results: dict[str, ScenarioResult] = {}
    log = structlog.get_logger("faults")
    for name in names:
        folder = Path(tempfile.mkdtemp(prefix=f"kith-faults-{name}-"))
        log.info("scenario starting", scenario=name, folder=str(folder))
        started = time.monotonic()
        run: Callable[[Path, Options], Awaitable[ScenarioResult]] = SCENARIOS[name]
        try:
            results[name] = await run(folder, options)
        except Exception as error:
            # One scenario that could not finish (a wait that gave up) is a failed scenario,
            # reported with why; it used to end the whole run, losing the others' figures.
            log.error("scenario failed", scenario=name, error=repr(error))
            results[name] = ScenarioResult(0, 1, 0, 0.0, {"error": repr(error), "finished": False})
        finally:
            # A run stopped mid-scenario (SIGTERM, Ctrl-C) has no result: nothing to read.
            if name in results and not results[name].clean and not keep:
                logs = await asyncio.to_thread(_keep_logs, folder)
                results[name].details["logs"] = str(logs)
                log.error("scenario failed: its logs are kept", scenario=name, logs=str(logs))
            # A stopped run too: a scenario's folder holds a database of up to gigabytes.
            if not keep:
                await asyncio.to_thread(_remove, folder)
        log.info(
            "scenario done",
            scenario=name,
            seconds=round(time.monotonic() - started, 1),
            **results[name].as_json(),
        )
    return results


def _keep_logs(folder: Path) -> Path:
    """Copy every log of a scenario's folder (not its data) to a folder of their own, beside
    it, and return that folder: a failed run is read afterwards, and its cause may not recur."""
    import shutil

    kept = folder.with_name(f"{folder.name}-logs")
    for log in folder.rglob("*.log"):
        if log.is_file():
            target = kept / log.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(log, target)
    kept.mkdir(exist_ok=True)
    return kept


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _print_table(results: dict[str, ScenarioResult]) -> None:
    table = Table(title="Kith under faults")
    for column in ("scenario", "checked", "lost", "duplicate effects", "recovery (s)"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for name, result in results.items():
        style = "green" if result.clean else "red"
        table.add_row(
            name,
            str(result.checked),
            f"[{style}]{result.lost}[/]",
            f"[{style}]{result.duplicate_effects}[/]",
            f"{result.recovery_s:.2f}",
        )
    Console().print(table)


def _log_to_stderr() -> None:
    """Progress goes to stderr, so that ``--json`` leaves stdout to the one JSON object."""
    handler = logging.StreamHandler(sys.stderr)
    logging.basicConfig(level=logging.INFO, handlers=[handler], format="%(message)s")
    for noisy in ("aiokafka", "kafka", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.TimeStamper(fmt="%H:%M:%S"),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
