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


@dataclass(frozen=True)
class RunningKith:
    """Where a running Kith answers, and the operators' token."""

    api: str
    operator_token: str
    state_dir: Path
    ops: str = ""
    partners: str = ""


@asynccontextmanager
async def running_kith(
    *,
    bootstrap: str,
    database_url: str,
    state_dir: Path,
    services: tuple[str, ...] = SERVICES,
    replicas: dict[str, int] | None = None,
    env: dict[str, str] | None = None,
    ready_timeout_s: float = 120,
) -> AsyncIterator[RunningKith]:
    """Start ``kith up --services ...``, wait until each service is ready, stop it on exit."""
    port, ops_port, partners_port = free_port(), free_port(), free_port()
    token = secrets.token_urlsafe(16)
    child_env = {
        **os.environ,
        "KITH_KAFKA_BOOTSTRAP": bootstrap,
        "KITH_DATABASE_URL": database_url,
        "KITH_HTTP_PORT": str(port),
        "KITH_OPS_PORT": str(ops_port),
        "KITH_PARTNERS_PORT": str(partners_port),
        "KITH_STATE_DIR": str(state_dir),
        "KITH_OPERATOR_TOKEN": token,
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
            yield RunningKith(
                f"http://127.0.0.1:{port}",
                token,
                state_dir,
                ops=f"http://127.0.0.1:{ops_port}",
                partners=f"http://127.0.0.1:{partners_port}",
            )
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                await asyncio.wait_for(process.wait(), timeout=30)
