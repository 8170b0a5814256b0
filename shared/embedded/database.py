"""The embedded PostgreSQL 16: the server binaries shipped in the pgserver wheel.

Kith runs them itself (rather than through pgserver's manager) so that the server listens
on a loopback TCP port, as an external server would, and dies with the process that owns it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil

from shared.embedded.process import LocalServer


def _postgres_bin() -> Path:
    # Located without importing pgserver: its import sets up a process manager Kith does not use.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver package is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _postgres_bin()

# PostgreSQL refuses to run as root. As root, Kith runs it in a user namespace of its own
# in which root's files belong to this unprivileged user: the server and its data directory
# stay inside the user's folders, however private, and no folder's permissions change.
_SERVER_USER = "kith-postgres"


class EmbeddedPostgres(LocalServer):
    """A PostgreSQL server whose data directory lives in Kith's state folder."""

    what = "the embedded PostgreSQL"
    # SIGINT is PostgreSQL's fast shutdown: clients are disconnected, data is kept.
    stop_signal = signal.SIGINT
    stop_timeout_s = 15.0

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        super().__init__(port=port)
        self.data_dir = data_dir.resolve()

    @property
    def url(self) -> str:
        """A URL for the server's ``postgres`` database."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def kill(self) -> None:
        """SIGKILL the server and every backend of it, as a crash of its machine would, and
        wait until they are gone.

        A backend outlives a killed postmaster until it next looks (at most a query later),
        attached to the server's shared memory meanwhile; a server started again on the
        same data directory then refuses to start ("pre-existing shared memory block is
        still in use"), as ``kith faults --scenario database_kill`` found.
        """
        server = self.pid
        backends: list[psutil.Process] = []
        if server is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                backends = psutil.Process(server).children(recursive=True)
        super().kill()
        for backend in backends:
            with contextlib.suppress(psutil.NoSuchProcess):
                backend.kill()
        _until_gone(backends, timeout_s=10)

    def start(self, *, timeout_s: float = 30) -> None:
        """Create the data directory if it is new, then start the server and wait for it."""
        as_server = _as_server()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(as_server)
        elif as_server:
            _own_as_root(self.data_dir)
        _write_hba(self.data_dir)
        argv = [*as_server, str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir)]
        # TCP only: a Unix socket's path may not pass 107 bytes, which a project in a deep
        # folder does, and every Kith client connects over TCP anyway.
        argv += ["-h", self.host, "-p", str(self.port), "-k", ""]
        # Durability across a power cut is not needed here (no fsync), but across a crash of
        # the server it is: a commit waits until its WAL is written to the operating system.
        # With synchronous_commit off, a killed server lost accepts it had already confirmed
        # (`kith faults --scenario database_kill`).
        for option in ("fsync=off", "full_page_writes=off"):
            argv += ["-c", option]
        argv += ["-c", "max_connections=200"]
        # Statistics follow tables that grow from empty. A cached plan made while a table
        # held a few hundred rows (a sequential scan) is kept until the table is analysed:
        # with the default minute between autovacuum rounds, a busy minute on a new database
        # scans a table ten times the size the plan was made for.
        argv += ["-c", "autovacuum_naptime=10"]
        self._launch(
            argv,
            log_path=self.data_dir.parent / "postgres.log",
            timeout_s=timeout_s,
        )
        self._wait_until_ready(timeout_s)

    def _wait_until_ready(self, timeout_s: float) -> None:
        # The port opens a few milliseconds before the server takes connections ("the
        # database system is starting up"): a client let in on the port alone fails.
        deadline = time.monotonic() + timeout_s
        argv = [str(POSTGRES_BIN_PATH / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port)]
        while subprocess.run(argv, check=False).returncode != 0:
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{self.what} did not take connections in {timeout_s:.0f}s")
            time.sleep(0.02)

    def _initdb(self, as_server: list[str]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        argv = [*as_server, str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.data_dir)]
        argv += ["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"]
        done = subprocess.run(argv, capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')}")


def _until_gone(processes: list[psutil.Process], *, timeout_s: float) -> None:
    """Wait until every one of ``processes`` has exited (a zombie has: its memory is freed)."""
    deadline = time.monotonic() + timeout_s
    for process in processes:
        while True:
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"process {process.pid} runs {timeout_s:.0f}s after SIGKILL")
            time.sleep(0.01)


#: Who may connect, and how: TCP on loopback only. The superuser ``postgres`` (the developer's
#: and the tests' administration) without a password; every other role, each service's own
#: (``shared.postgres.roles``), with its password.
HBA = """\
# Written by Kith at every start of the embedded PostgreSQL.
host all postgres 127.0.0.1/32 trust
host all postgres ::1/128 trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


def _write_hba(data_dir: Path) -> None:
    (data_dir / "pg_hba.conf").write_text(HBA)


def _as_server() -> list[str]:
    """The prefix that runs a PostgreSQL program as a user it accepts: none unless root.

    As root: ``unshare`` into a new user namespace where root is mapped to the server user.
    Inside, the program's user is not root, so PostgreSQL runs; outside, it is still root,
    so it reaches its data through folders only root may enter, and the files it writes
    belong to root like the rest of the project.
    """
    if os.geteuid() != 0:
        return []
    entry = _server_entry()
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    return [
        unshare,
        "--user",
        f"--map-user={entry.pw_uid}",
        f"--map-group={entry.pw_gid}",
        "--",
    ]


def _server_entry() -> pwd.struct_passwd:
    # The mapped user needs an entry in /etc/passwd: initdb and postgres look their user up.
    try:
        return pwd.getpwnam(_SERVER_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [useradd, "--system", "--no-create-home", _SERVER_USER], check=True, capture_output=True
        )
        return pwd.getpwnam(_SERVER_USER)


def _own_as_root(data_dir: Path) -> None:
    # A data directory made before the namespace (owned by the server user itself) would look
    # foreign inside it: give it back to root, whom the namespace maps to the server user.
    if data_dir.stat().st_uid == 0:
        return
    for folder, _, files in os.walk(data_dir):
        os.chown(folder, 0, 0)
        for name in files:
            os.chown(os.path.join(folder, name), 0, 0, follow_symlinks=False)
