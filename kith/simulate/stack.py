"""A Kith of the simulation's own: an embedded broker and database (unless given), ``kith up``'s
booking, matching and trust processes on them, and a clock file that moves them all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from kith.faults.platform import platform
from kith.running import running_kith
from shared import clock

#: The services a neighbourhood's life goes through (the console and the partners' gateway
#: only watch, and would take CPU from the run).
SERVICES = ("booking", "matching", "trust", "ledger")


@dataclass(frozen=True)
class SimStack:
    """Where the simulated Kith answers, and the file that moves its clock."""

    api: str
    operator_token: str
    bootstrap: str
    clock_file: Path
    log_file: Path
    ledger: str = ""
    """The ledger's API (how the neighbourhood's hours are paid for)."""


@asynccontextmanager
async def sim_stack(
    folder: Path,
    *,
    bootstrap: str | None = None,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[SimStack]:
    """Start everything under ``folder``; this process reads the same movable clock meanwhile.

    The clock is installed here too, so that the simulation asks for help "tomorrow" in the
    services' present, not the machine's; it is put back to real time on the way out.
    """
    clock_file = folder / "clock"
    async with (
        platform(folder, bootstrap=bootstrap, database_url=database_url) as running,
        running_kith(
            bootstrap=running.bootstrap,
            database_url=running.database_url,
            state_dir=folder / "kith",
            services=SERVICES,
            # JSON logs: the simulation reads matching's verdicts back from them.
            env={"KITH_CLOCK_FILE": str(clock_file), "KITH_LOG_FORMAT": "json", **(env or {})},
            ready_timeout_s=120,
        ) as kith,
    ):
        clock.install(clock_file)
        try:
            yield SimStack(
                kith.api,
                kith.operator_token,
                running.bootstrap,
                clock_file,
                kith.state_dir / "kith-up.log",
                ledger=kith.ledger,
            )
        finally:
            clock.install(None)
