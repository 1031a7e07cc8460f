"""A throwaway PostgreSQL cluster for tests, from the binaries Debian's ``postgresql`` installs.

    with PostgresCluster() as cluster:
        url = cluster.new_database()      # a fresh, migrated database: postgresql+psycopg://...
        cluster.drop_database(url)

The cluster lives in a temporary dir of its own and listens on a Unix socket only (no TCP
port to collide with another xdist worker's), unless given a ``host`` address: then it also
listens there on a free TCP port, trusts clients on the networks that address is on (a
test's other network namespaces), and its URLs name that address, for servers on other
hosts. PostgreSQL refuses to run as root, so as root (CI) the cluster's dir belongs to the
``postgres`` system user and its programs run as that user (``runuser``). Durability is off
(``fsync``, ``synchronous_commit``): a test cluster never survives a crash, and it starts
and writes several times faster.

Each new database is a copy of a template migrated once (``CREATE DATABASE ... TEMPLATE``):
a test pays for a file copy, not for the migrations.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg
import sqlalchemy as sa

from batch_compute_mock.store.database import Database

__all__ = ["PostgresCluster", "postgres_bin"]

_TEMPLATE = "bc_template"
_USER = "postgres"


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's ``bin`` dir (``scripts/test`` installs one)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: ./scripts/test installs it "
            "(or run: apt-get install -y postgresql)"
        )
    return Path(found[-1]).parent


class PostgresCluster:
    """One cluster: ``start()`` (or ``with``) runs it, ``stop()`` removes it and its files."""

    def __init__(self, host: str | None = None) -> None:
        """``host``: an address to listen on over TCP too (None: the Unix socket only)."""
        self.host = host
        self.port = _free_port(host) if host is not None else 5432
        self.root = Path(tempfile.mkdtemp(prefix="bc-postgres-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self._as_root = os.geteuid() == 0
        self._names = itertools.count()
        self._bin = postgres_bin()

    def start(self) -> PostgresCluster:
        self.socket_dir.mkdir()
        if self._as_root:
            account = pwd.getpwnam(_USER)
            for path in (self.root, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            _USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if self.host is not None:  # servers on the test's other hosts connect over TCP
            with (self.data / "pg_hba.conf").open("a") as rules:
                rules.write("host all all samenet trust\n")
        options = " ".join(
            [
                f"-k {self.socket_dir}",
                f"-p {self.port}",
                f"-c listen_addresses='{self.host or ''}'",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )
        with self._admin() as admin:
            admin.execute(f"CREATE DATABASE {_TEMPLATE}")
        Database(self.url(_TEMPLATE)).dispose()  # migrated once; copies start up to date
        return self

    def url(self, database: str) -> str:
        if self.host is not None:
            return f"postgresql+psycopg://{_USER}@{self.host}:{self.port}/{database}"
        return f"postgresql+psycopg://{_USER}@/{database}?host={self.socket_dir}"

    def new_database(self, *, migrated: bool = True) -> str:
        """A fresh, empty database, at the latest schema revision unless ``migrated`` is
        False (then without any table); its SQLAlchemy URL."""
        name = f"bc_{os.getpid()}_{next(self._names)}"
        template = _TEMPLATE if migrated else "template0"
        with self._admin() as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with self._admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            dbname="postgres",
            user=_USER,
            host=str(self.socket_dir),
            port=self.port,
            autocommit=True,
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if self._as_root:
            command = ["runuser", "-u", _USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stderr}\n{tail}")


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
