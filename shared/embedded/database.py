"""The embedded PostgreSQL 16: the server binaries shipped in the pgserver wheel.

Kith runs them itself (rather than through pgserver's manager) so that the server listens
on a loopback TCP port, as an external server would, and dies with the process that owns it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from shared.embedded.process import LocalServer


def _postgres_bin() -> Path:
    # Located without importing pgserver: its import sets up a process manager Kith does not use.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver package is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _postgres_bin()

# PostgreSQL refuses to run as root; when we are root it runs as this unprivileged user.
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

    def start(self, *, timeout_s: float = 30) -> None:
        """Create the data directory if it is new, then start the server and wait for it."""
        user = _server_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        argv = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir)]
        argv += ["-h", self.host, "-p", str(self.port), "-k", str(self.data_dir)]
        # A test and demo server: durability across a power cut is not needed.
        for option in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
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
            as_user=_as_user(user),
        )

    def _initdb(self, user: str | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            self.data_dir.chmod(0o700)
            _let_traverse(self.data_dir.parent)
        argv = [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.data_dir)]
        argv += ["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"]
        done = subprocess.run(argv, capture_output=True, check=False, **_as_user(user))
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')}")


def _as_user(user: str | None) -> dict[str, Any]:
    # Drop the group too: with root's group, the folders' group bits would deny access.
    return {} if user is None else {"user": user, "group": user, "extra_groups": []}


def _let_traverse(folder: Path) -> None:
    # The server user must reach its data directory through folders root created 0700.
    for ancestor in (folder, *folder.parents):
        mode = ancestor.stat().st_mode
        if not mode & 0o001:
            ancestor.chmod(mode | 0o001)


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SERVER_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--no-create-home", _SERVER_USER], check=True)
    return _SERVER_USER
