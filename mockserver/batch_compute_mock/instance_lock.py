"""One ``serve`` per data dir, and per SQLite file: a second one refuses to start.

A data dir is one server's scratch (its start ledger, bundle cache, environments), and a
SQLite file is one server's whole state: two schedulers on it would both claim its jobs. The
lock is an ``flock`` on a file next to each, held for the life of the process; the kernel
drops it when the process ends, however it ends, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import sqlalchemy as sa

__all__ = ["AlreadyServing", "hold_instance_locks"]

_LOCK_NAME = "serve.lock"


class AlreadyServing(Exception):
    """Another server holds the data dir or the SQLite file (the message says what to do)."""


def hold_instance_locks(data_dir: Path, database_url: str) -> list[int]:
    """Lock ``data_dir`` (and the SQLite file ``database_url`` names, if any); returns the
    open descriptors, which hold the locks until they are closed or the process ends."""
    held: list[int] = []
    try:
        held.append(_lock(data_dir / _LOCK_NAME, f"the data dir {data_dir}"))
        sqlite_file = _sqlite_file(database_url)
        if sqlite_file is not None and sqlite_file.parent.resolve() != data_dir.resolve():
            held.append(
                _lock(sqlite_file.with_name(sqlite_file.name + ".serve.lock"), str(sqlite_file))
            )
    except BaseException:
        for descriptor in held:
            os.close(descriptor)
        raise
    return held


def _lock(path: Path, what: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(descriptor)
        raise AlreadyServing(
            f"another batch-compute server (pid {holder}) is using {what}: a data dir and a "
            "SQLite database serve one server at a time; to run several, give each its own "
            "--data-dir and share a PostgreSQL --database-url"
        ) from None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, str(os.getpid()).encode(), 0)
    return descriptor


def _sqlite_file(url: str) -> Path | None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
