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
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["StartLedger"]


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
