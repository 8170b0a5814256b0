"""``kith bench <name>``: benchmarks that print figures (p50/p99, throughput), never pass/fail.

Each benchmark module registers one command on ``app``; each starts the embedded stack it
needs by itself unless settings point at external servers.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: each prints its figures; --json prints one JSON object.")

# Each benchmark registers its command on import. Heavy imports stay inside the commands.
from kith.bench import booking, concern, idle, latency, matching, notify  # noqa: E402, F401
