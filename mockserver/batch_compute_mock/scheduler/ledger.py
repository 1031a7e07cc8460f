"""The start ledger: which job attempts began, written before each one is handed to a worker.

A start reaches the database with the next scheduler round, a few milliseconds after the job
began; a server that dies in between would forget that the attempt ran. So the moment a job is
handed to a worker, ``began`` writes one small file (``{job_id}`` holding the attempt number)
into this directory, and once the round that records the attempt's outcome has committed,
``settled`` removes it. At start-up, before anything else runs, ``entries`` tells recovery
exactly which attempts began and were never finished: every attempt that started is counted
once, and none that did not.

A file per job costs one create and one unlink (tens of microseconds), and survives a crash
of the server process (not a power loss: it is not fsynced, like SQLite's ``NORMAL`` mode).

Where several servers share a PostgreSQL database, the server that takes over scheduling
after the scheduling one died must read what that one began, which its data dir no longer
tells anyone: ``SharedStartLedger`` keeps the same entries in the database instead (one
autocommitted upsert per start, a fraction of a millisecond on a local network).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

__all__ = ["Ledger", "SharedStartLedger", "StartLedger"]


class Ledger(Protocol):
    def began(self, job_id: str, attempt: int) -> None: ...
    def settled(self, job_ids: Iterable[str]) -> None: ...
    def entries(self) -> dict[str, int]: ...
    def clear(self) -> None: ...


class StartRecords(Protocol):
    """What ``SharedStartLedger`` needs of the store."""

    def note_start(self, job_id: str, attempt: int) -> None: ...
    def forget_starts(self, job_ids: Iterable[str]) -> None: ...
    def noted_starts(self) -> dict[str, int]: ...
    def clear_starts(self) -> None: ...


class StartLedger:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def began(self, job_id: str, attempt: int) -> None:
        """Attempt ``attempt`` of ``job_id`` is about to run."""
        fd = os.open(self.root / job_id, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC)
        try:
            os.write(fd, str(attempt).encode())
        finally:
            os.close(fd)

    def settled(self, job_ids: Iterable[str]) -> None:
        """These jobs' attempts are recorded (or will never be): forget them."""
        for job_id in job_ids:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / job_id)

    def entries(self) -> dict[str, int]:
        """Every attempt that began and is not settled: job id -> attempt number."""
        found: dict[str, int] = {}
        for entry in os.scandir(self.root):
            try:
                with open(entry.path, "rb") as handle:
                    found[entry.name] = int(handle.read() or b"0")
            except (OSError, ValueError):
                continue
        return found

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)


class SharedStartLedger:
    """The start ledger in a database several servers share (see the module docstring)."""

    def __init__(self, store: StartRecords) -> None:
        self._store = store

    def began(self, job_id: str, attempt: int) -> None:
        self._store.note_start(job_id, attempt)

    def settled(self, job_ids: Iterable[str]) -> None:
        self._store.forget_starts(job_ids)

    def entries(self) -> dict[str, int]:
        return self._store.noted_starts()

    def clear(self) -> None:
        self._store.clear_starts()
