"""``kith clock``: see and move the clock every process of a development Kith shares."""

from __future__ import annotations

from pathlib import Path

import typer

from shared import clock
from shared.settings import Settings

app = typer.Typer(help="See or move Kith's clock (development and tests only).")


def _clock_file(settings: Settings) -> Path:
    if settings.clock_file is not None:
        return settings.clock_file
    if settings.kafka_bootstrap or settings.database_url:
        # Production runs on real time: moving it would book visits in a future nobody lives in.
        raise typer.BadParameter(
            "this Kith runs on an external broker and database, whose clock is real time and"
            " cannot be moved (set KITH_CLOCK_FILE only on a development or test Kith)"
        )
    return settings.state_dir / "clock"


@app.command()
def show() -> None:
    """Print the present as Kith's services see it, and how far ahead of real time it runs."""
    path = _clock_file(Settings())
    moved = clock.MovableClock(path)
    typer.echo(f"{moved.now().isoformat(timespec='seconds')}  ({moved.offset()} ahead)")


@app.command()
def advance(
    by: str = typer.Argument(..., help="How far: 7d, 2w, 1d12h, 90m, 30s."),
) -> None:
    """Move the clock of every running Kith process forward at once."""
    try:
        step = clock.parse_duration(by)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    path = _clock_file(Settings())
    moved = clock.advance(path, step)
    present = clock.MovableClock(path).now()
    typer.echo(f"moved {step} on: it is now {present.isoformat(timespec='seconds')}")
    typer.echo(f"({moved} ahead of real time)")
