"""A throw-away PostgreSQL cluster for the tests: its own folder, its own port, gone afterwards.

The server refuses to run as root, so when the tests run as root (a CI container) the cluster
is made and run as the unprivileged `postgres` account that Debian's package creates, through
`runuser`. Nothing here touches a system cluster: the data folder, the socket and the log live
in a temporary folder and the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# CI sets this so a missing server fails the run instead of skipping the PostgreSQL tests.
REQUIRE_ENV = "UNBLEND_REQUIRE_POSTGRES"
_UNPRIVILEGED = "postgres"


class PostgresMissingError(RuntimeError):
    """PostgreSQL's server programs are not installed here."""


def server_bindir() -> Path | None:
    """Where initdb and pg_ctl live: the newest Debian versioned folder, else the PATH."""
    versions = [
        folder
        for folder in Path("/usr/lib/postgresql").glob("*")
        if folder.name.isdigit() and (folder / "bin" / "initdb").exists()
    ]
    if versions:
        return max(versions, key=lambda folder: int(folder.name)) / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    as_user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://unblend@127.0.0.1:{self.port}/unblend"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user is not None:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "unblend",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        log = str(self.root / "log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "unblend", "unblend")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str, template: str = "") -> str:
        """A fresh database in this cluster, so each test starts from nothing (or from a copy
        of `template`, a database nobody is connected to)."""
        copy = ["-T", template] if template else []
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "unblend", *copy, name)
        return f"postgresql://unblend@127.0.0.1:{self.port}/{name}"


def _new_cluster(bindir: Path, as_user: str | None) -> PgCluster:
    root = Path(tempfile.mkdtemp(prefix="unblend-pg-"))
    if as_user is not None:
        shutil.chown(root, user=as_user)
    return PgCluster(bindir=bindir, root=root, port=_free_port(), as_user=as_user)


def start_cluster() -> PgCluster:
    """Make and start a cluster; raises PostgresMissingError when the server is not installed."""
    bindir = server_bindir()
    if bindir is None:
        raise PostgresMissingError("PostgreSQL's server (initdb, pg_ctl) is not installed")
    as_user = _UNPRIVILEGED if os.geteuid() == 0 else None
    failure: subprocess.CalledProcessError | None = None
    # Another process may take the probed port before the server binds it: try a fresh one.
    for _ in range(3):
        cluster = _new_cluster(bindir, as_user)
        try:
            cluster.start()
        except subprocess.CalledProcessError as error:
            failure = error
            cluster.stop()
            continue
        return cluster
    assert failure is not None
    raise failure
