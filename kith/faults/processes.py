"""Kith's services as child processes that a fault scenario can start, kill and restart.

Each process is ``python -m services.<name>`` with the environment ``kith up`` would give it
(broker, database, operator token, ready file, state folder, HTTP port). Unlike ``kith up``,
nothing here restarts a process by itself: the scenario decides when a process dies (SIGKILL,
as a crash would) and when it comes back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from shared.embedded.process import spawn

#: How long a service may take to say it is ready (imports, migrations, group join).
READY_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 15.0
# Set by the process itself or per process here: never inherited from whoever runs us.
_PER_PROCESS = ("KITH_READY_FILE", "KITH_METRICS_PORT", "KITH_HTTP_PORT", "KITH_STATE_DIR")


class ServiceFailed(RuntimeError):
    """A service exited while starting, or was not ready in time; the message names its log."""


class ServiceProcess:
    """One process of one service, with its own ready file, state folder and log.

    Args:
        name: Unique among the scenario's processes (``booking-2``); names files and logs.
        service: The package under ``services`` to run (``booking``).
        folder: Where the ready file, state folder and log go.
        env: ``KITH_*`` settings shared by every process of the scenario, plus its own.
    """

    def __init__(self, name: str, service: str, folder: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.service = service
        self.ready_file = folder / "run" / f"{name}.ready"
        self.log_path = folder / "logs" / f"{name}.log"
        self._state_dir = folder / "state" / name
        self._env = dict(env)
        port = env.get("KITH_HTTP_PORT")
        self.http_port = int(port) if port else None
        """The HTTP port of a booking process."""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.started_at = 0.0
        """``time.monotonic()`` when the current process was spawned."""

    @property
    def environment(self) -> dict[str, str]:
        """The ``KITH_*`` settings this process is started with (besides its own files)."""
        return dict(self._env)

    @property
    def pid(self) -> int | None:
        """The running process's id."""
        return self._process.pid if self._process is not None else None

    @property
    def api(self) -> str:
        """The base URL of a booking process's API."""
        if self.http_port is None:
            raise RuntimeError(f"{self.name} serves no HTTP")
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Spawn the process (it is not ready yet: see ``wait_ready``)."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        # A killed process leaves its ready file behind; a stale one would pass for ready.
        self.ready_file.unlink(missing_ok=True)
        for folder in (self.ready_file.parent, self.log_path.parent, self._state_dir):
            folder.mkdir(parents=True, exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if k not in _PER_PROCESS}
        env = {
            **inherited,
            "KITH_READY_FILE": str(self.ready_file),
            "KITH_STATE_DIR": str(self._state_dir),
            "PYTHONUNBUFFERED": "1",
            **self._env,
        }
        self._log = self.log_path.open("ab")
        self._process = spawn(
            [sys.executable, "-m", f"services.{self.service}"], log=self._log, env=env
        )
        self.started_at = time.monotonic()

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Wait until the process has written its ready file; return seconds since spawn."""
        deadline = time.monotonic() + timeout_s
        while not self.ready_file.exists():
            if not self.running:
                code = self._process.returncode if self._process is not None else None
                raise ServiceFailed(f"{self.name} exited ({code}) while starting: {self.log_path}")
            if time.monotonic() > deadline:
                raise ServiceFailed(
                    f"{self.name} not ready after {timeout_s:.0f}s: {self.log_path}"
                )
            await asyncio.sleep(0.02)
        return time.monotonic() - self.started_at

    async def kill(self) -> None:
        """SIGKILL the process, as a crash would: no flush, no commit, no goodbye."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        """Ask the process to stop cleanly (SIGTERM); kill it if it does not in time."""
        await self._end(signal.SIGTERM)

    async def restart(self) -> None:
        """Spawn the process again after it died or was stopped."""
        self.start()

    async def _end(self, sig: signal.Signals) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                await asyncio.to_thread(process.wait, _STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_lines(self) -> list[str]:
        """Everything the process (and those before it under this name) wrote."""
        if not self.log_path.exists():
            return []
        return self.log_path.read_text(errors="replace").splitlines()
