"""``kith contracts``: the published contracts, for partners who build without Kith's code."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Kith's event contracts as JSON Schema and AsyncAPI.")


@app.command("export")
def export_command(
    directory: Path = typer.Argument(
        Path("contracts"), help="Where to write schemas/ and asyncapi.json."
    ),
) -> None:
    """Write a JSON Schema per event type and version, and one AsyncAPI document of every topic."""
    from shared.contracts.export import export

    written = export(directory)
    typer.echo(f"wrote {len(written)} files under {directory}/")
