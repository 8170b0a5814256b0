"""Child processes that die with their parent, so no broker or database is left behind."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from shared.embedded.ports import free_port, require_free, wait_for_port

_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: signal.Signals) -> Callable[[], None]:
    def arm() -> None:
        # Linux: the kernel sends `sig` to the child when its parent exits, even on SIGKILL.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig))

    return arm


def spawn(
    argv: Sequence[str],
    *,
    log: IO[bytes] | None,
    on_parent_death: signal.Signals = signal.SIGTERM,
    as_user: dict[str, Any] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with its output in ``log``; it gets ``on_parent_death`` if we die.

    It runs in a session of its own so that Ctrl-C in the terminal, which signals the whole
    foreground process group, does not stop the broker or database under the services: the
    supervisor stops it after them.
    """
    return subprocess.Popen(
        list(argv),
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent(on_parent_death),
        start_new_session=True,
        cwd=cwd,
        **(as_user or {}),
        env=env,
    )


def stop(process: subprocess.Popen[bytes], *, sig: signal.Signals, timeout_s: float) -> None:
    """Ask a child to stop with ``sig``; kill it if it has not exited within ``timeout_s``."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class LocalServer:
    """A child process that serves on a loopback port, its output kept in a log file."""

    #: Named in the message when the port is taken.
    what = "a server"
    #: The signal that asks this server to stop cleanly, and how long it gets.
    stop_signal = signal.SIGTERM
    stop_timeout_s = 5.0

    def __init__(self, *, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process else None

    def alive(self) -> bool:
        """Whether the server this object started is still running."""
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """How the server ended when it stopped by itself (a negative signal number when a
        signal ended it); ``None`` while it runs or once stopped here."""
        return self._process.poll() if self._process is not None else None

    def _launch(
        self,
        argv: Sequence[str],
        *,
        log_path: Path | None,
        timeout_s: float,
        as_user: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Start ``argv`` (with ``env`` added to this process's environment) and wait until
        it accepts connections on the port."""
        require_free(self.host, self.port, self.what)
        if self._log is not None:  # a server started again after it died
            self._log.close()
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_path.open("ab")
        self._process = spawn(
            argv,
            log=self._log,
            on_parent_death=self.stop_signal,
            as_user=as_user,
            env={**os.environ, **env} if env else None,
        )
        try:
            wait_for_port(self.host, self.port, timeout_s=timeout_s)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        """Ask the server to stop cleanly; kill it if it does not."""
        self._end(self.stop_signal, self.stop_timeout_s)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        self._end(signal.SIGKILL, 5)

    def _end(self, sig: signal.Signals, timeout_s: float) -> None:
        if self._process is not None:
            stop(self._process, sig=sig, timeout_s=timeout_s)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
