"""Child processes that die with their parent, so no broker or database is left behind."""

from __future__ import annotations

import ctypes
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

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
    """Start ``argv`` with its output in ``log``; it gets ``on_parent_death`` if we die."""
    return subprocess.Popen(
        list(argv),
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent(on_parent_death),
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
