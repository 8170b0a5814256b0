"""``kith up`` as a child process, for the end-to-end tests and the benchmarks.

It runs against a broker and database that are already up (the test stack or a benchmark's),
so nothing embedded starts inside it, and it is stopped with Ctrl-C as a user would.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from kith.supervisor import SERVICES, instance_names
from shared.embedded import free_port
from shared.settings import RATE_LIMITS


@dataclass(frozen=True)
class RunningKith:
    """Where a running Kith answers, and the operators' token."""

    api: str
    operator_token: str
    state_dir: Path
    ops: str = ""
    partners: str = ""
    notify: str = ""
    ledger: str = ""
    inbox: str = ""
    """The development mail server's inbox page (its messages are in ``state_dir / "mail"``)."""

    def metrics_urls(self) -> dict[str, str]:
        """Each process's metrics endpoint by name (``matching``, ``kith``, ...)."""
        return metrics_urls(self.state_dir)


def metrics_urls(state_dir: Path) -> dict[str, str]:
    """The metrics endpoints ``kith up`` listed in ``state_dir`` (none before it has)."""
    listing = state_dir / "run" / "metrics"
    lines = listing.read_text().splitlines() if listing.exists() else []
    return dict(line.split(" ", 1) for line in lines if line)


@asynccontextmanager
async def running_kith(
    *,
    bootstrap: str | None,
    database_url: str | None,
    state_dir: Path,
    services: tuple[str, ...] = SERVICES,
    replicas: dict[str, int] | None = None,
    env: dict[str, str] | None = None,
    ready_timeout_s: float = 120,
) -> AsyncIterator[RunningKith]:
    """Start ``kith up --services ...``, wait until each service is ready, stop it on exit.

    With no ``bootstrap`` and ``database_url``, ``kith up`` starts its own embedded broker and
    database, as it does for a user.
    """
    port, ops_port, partners_port = free_port(), free_port(), free_port()
    notify_port, inbox_port, ledger_port = free_port(), free_port(), free_port()
    token = secrets.token_urlsafe(16)
    child_env = {
        **os.environ,
        **({"KITH_KAFKA_BOOTSTRAP": bootstrap} if bootstrap else {}),
        **({"KITH_DATABASE_URL": database_url} if database_url else {}),
        "KITH_HTTP_PORT": str(port),
        "KITH_OPS_PORT": str(ops_port),
        "KITH_PARTNERS_PORT": str(partners_port),
        "KITH_NOTIFY_PORT": str(notify_port),
        "KITH_LEDGER_PORT": str(ledger_port),
        "KITH_MAIL_INBOX_PORT": str(inbox_port),
        "KITH_STATE_DIR": str(state_dir),
        "KITH_OPERATOR_TOKEN": token,
        # The tests' and benchmarks' local stack: the development mode, and rate limits no
        # load test or test world reaches from its one address.
        "KITH_DEVELOPMENT": "true",
        **{f"KITH_{name.upper()}": "100000000/1" for name in RATE_LIMITS},
        **(env or {}),
    }
    log_path = state_dir / "kith-up.log"
    await asyncio.to_thread(state_dir.mkdir, parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kith.cli",
            "up",
            "--services",
            ",".join(services),
            "--replicas",
            ",".join(f"{name}={count}" for name, count in (replicas or {}).items()),
            env=child_env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            names = instance_names(services, replicas or {})
            ready = [state_dir / "run" / f"{name}.ready" for name in names]
            deadline = time.monotonic() + ready_timeout_s
            while not all(path.exists() for path in ready):
                if process.returncode is not None:
                    raise RuntimeError(f"kith up exited:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Kith not ready after {ready_timeout_s:.0f}s")
                await asyncio.sleep(0.05)
            try:
                yield RunningKith(
                    f"http://127.0.0.1:{port}",
                    token,
                    state_dir,
                    ops=f"http://127.0.0.1:{ops_port}",
                    partners=f"http://127.0.0.1:{partners_port}",
                    notify=f"http://127.0.0.1:{notify_port}",
                    ledger=f"http://127.0.0.1:{ledger_port}",
                    inbox=f"http://127.0.0.1:{inbox_port}/",
                )
            except BaseException:
                # A caller that gave up waiting usually waited on one stream: say which.
                print(await _where_things_stand(state_dir), file=sys.stderr)
                raise
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                await asyncio.wait_for(process.wait(), timeout=30)


async def _where_things_stand(state_dir: Path) -> str:
    """Each service's lag, backlog and dead letters (its metrics), and the log's last lines."""
    import httpx

    lines = ["Kith at the time of the failure:"]
    async with httpx.AsyncClient(timeout=2) as http:
        for name, url in metrics_urls(state_dir).items():
            try:
                text = (await http.get(url)).text
            except httpx.HTTPError as error:
                lines.append(f"  {name}: metrics unreachable ({error!r})")
                continue
            lines += [
                f"  {name}: {metric}"
                for metric in text.splitlines()
                if metric.startswith(_TELLING) and not metric.endswith(" 0.0")
            ]
    log = (state_dir / "kith-up.log").read_text(errors="replace").splitlines()
    return "\n".join([*lines, "kith up's log, last lines:", *log[-40:]])


#: The figures that say where events went: read, published, unread, unpublished, set aside.
_TELLING = (
    "kith_events_consumed_total{",
    "kith_events_published_total{",
    "kith_consumer_lag{",
    "kith_outbox_backlog{",
    "kith_dead_letters_total{",
)
