"""``kith bench idle``: what an idle Kith costs, every process of ``kith up`` with no traffic.

Starts ``kith up`` (every service, its own embedded broker and database), waits until every
service is ready and a settling time more, then reads each process's CPU time (user and
system) at the start and at the end of ``--seconds``: ``cpu_share`` is their sum over the
wall time, in cores (target: at most 0.02, 2 % of one core, in all). The part of each process
(``kith up`` itself, the broker, PostgreSQL with all its backends, each service) says who
polls.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from kith.bench import app


@app.command("idle")
def idle(
    seconds: float = typer.Option(60.0, min=1.0, help="How long to measure."),
    settle: float = typer.Option(
        15.0,
        min=0.0,
        help="Wait this long after ready first (consumers count as idle after 10 s without a"
        " record).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Run an idle Kith; print the share of a core it uses, in all and per process."""
    figures = asyncio.run(_run(seconds=seconds, settle=settle))
    if json_out:
        typer.echo(json.dumps(figures))
        return
    typer.echo(
        f"idle Kith over {figures['seconds']} s: {figures['cpu_share']:.3f} of a core in all"
        " (target <= 0.02)"
    )
    for name, share in figures["processes"].items():
        typer.echo(f"  {name:<12} {share:.4f}")


async def _run(*, seconds: float, settle: float) -> dict[str, Any]:
    from kith.running import running_kith

    with tempfile.TemporaryDirectory(prefix="kith-bench-idle-") as state:
        # Generous: every process starts at once, on a machine that may be busy.
        async with running_kith(
            bootstrap=None, database_url=None, state_dir=Path(state), ready_timeout_s=600
        ):
            await asyncio.sleep(settle)
            # The embedded database runs as a daemon of its own: found by its pid file.
            roots = tuple(_pids(Path(state) / "run"))
            before = cpu_by_process(roots)
            began = time.monotonic()
            await asyncio.sleep(seconds)
            after = cpu_by_process(roots)
            wall = time.monotonic() - began
    return idle_figures(before, after, wall)


def _pids(run: Path) -> list[int]:
    pids = []
    for path in run.glob("*.pid"):
        try:
            pids.append(int(path.read_text().strip()))
        except (OSError, ValueError):
            continue
    return pids


def cpu_by_process(roots: tuple[int, ...] = ()) -> dict[tuple[int, float], tuple[str, float]]:
    """Every process this one started, directly or not, and those of ``roots`` and theirs:
    ``(pid, its start time)`` -> its name and CPU seconds so far (a process that ended or
    began meanwhile counts from 0)."""
    import psutil  # type: ignore[import-untyped,unused-ignore]

    processes = psutil.Process().children(recursive=True)
    for pid in roots:
        try:
            root = psutil.Process(pid)
            processes += [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
    found: dict[tuple[int, float], tuple[str, float]] = {}
    for process in processes:
        try:
            with process.oneshot():
                times = process.cpu_times()
                key = (process.pid, process.create_time())
                found[key] = (_name(process.cmdline(), process.name()), times.user + times.system)
        except psutil.Error:
            continue  # it ended while being read
    return found


def memory_by_process() -> dict[str, float]:
    """Resident memory (MB) of every process this one started, directly or not, summed per
    name (``booking``, ``matching``, the broker's executable)."""
    import psutil  # type: ignore[import-untyped,unused-ignore]

    found: dict[str, float] = {}
    for process in psutil.Process().children(recursive=True):
        try:
            with process.oneshot():
                name = _name(process.cmdline(), process.name())
                found[name] = found.get(name, 0.0) + process.memory_info().rss / 2**20
        except psutil.Error:
            continue  # it ended while being read
    return {name: round(mb, 1) for name, mb in sorted(found.items())}


def idle_figures(
    before: dict[tuple[int, float], tuple[str, float]],
    after: dict[tuple[int, float], tuple[str, float]],
    wall_s: float,
) -> dict[str, Any]:
    """The share of a core each named part used between ``before`` and ``after``."""
    parts: dict[str, float] = {}
    for key, (name, cpu) in after.items():
        spent = cpu - (before[key][1] if key in before else 0.0)
        parts[name] = parts.get(name, 0.0) + spent
    shares = {name: round(cpu / wall_s, 4) for name, cpu in sorted(parts.items())}
    return {
        "benchmark": "idle",
        "seconds": round(wall_s, 1),
        "cpu_share": round(sum(parts.values()) / wall_s, 4),
        "processes": shares,
    }


def _name(cmdline: list[str], name: str) -> str:
    """``booking`` for ``python -m services.booking``, ``kith`` for ``kith up``; else the
    executable's name (``postgres``, the broker's)."""
    for index, arg in enumerate(cmdline[:-1]):
        if arg == "-m" and cmdline[index + 1].startswith("services."):
            return cmdline[index + 1].removeprefix("services.")
        if arg == "-m" and cmdline[index + 1] == "kith.cli":
            return "kith"
    return name
