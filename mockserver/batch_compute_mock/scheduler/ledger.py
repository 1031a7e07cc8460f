"""The start ledger: which job attempts began, written before each one is handed to a worker.

A start reaches the database with the next scheduler round, a few milliseconds after the job
began; a server that dies in between would forget that the attempt ran. So the moment a job is
handed to a worker, ``began`` appends a line (``+{job_id} {attempt}``) to one file, and once
the round that records the attempt's outcome has committed, ``settled`` appends ``-{job_id}``.
At start-up, before anything else runs, ``entries`` replays the file and tells recovery exactly
which attempts began and were never finished: every attempt that started is counted once, and
none that did not.

One append-only file, not a file per job: creating a file costs about as much as running a
trivial job on some filesystems (0.75 ms on this project's CI disks), and ``began`` runs on the
event loop. A line is one ``write`` to an ``O_APPEND`` descriptor: a crash of the server
process never leaves half of one (a power loss may; a torn last line is ignored). The file is
not fsynced, like SQLite's ``NORMAL`` mode. It is rewritten with only the unsettled entries
when it grows past ``compact_bytes``.

Servers before this file kept one file per start in the same directory (named after the job,
holding the attempt number). A server upgraded right after such a server crashed reads them
once as starts, writes them into the file and only then removes them, so a crash meanwhile
loses none.

Where several servers share a PostgreSQL database, the server that takes over scheduling
after the scheduling one died must read what that one began, which its data dir no longer
tells anyone: ``SharedStartLedger`` keeps the same entries in the database instead (one
autocommitted upsert per start, a fraction of a millisecond on a local network).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

__all__ = ["Ledger", "SharedStartLedger", "StartLedger"]


class Ledger(Protocol):
    def began(self, job_id: str, attempt: int) -> None: ...
    def settled(self, job_ids: Iterable[str]) -> None: ...
    def entries(self) -> dict[str, int]: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class StartRecords(Protocol):
    """What ``SharedStartLedger`` needs of the store."""

    def note_start(self, job_id: str, attempt: int) -> None: ...
    def forget_starts(self, job_ids: Iterable[str]) -> None: ...
    def noted_starts(self) -> dict[str, int]: ...
    def clear_starts(self) -> None: ...


_FILE = "ledger"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC


class StartLedger:
    def __init__(self, root: Path, compact_bytes: int = 1 << 20) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._path = self.root / _FILE
        self._compact_bytes = compact_bytes
        self._lock = threading.Lock()  # began runs on the event loop, settled in a round
        self._open: dict[str, int] = _replay(self._path)
        legacy = _legacy_starts(self.root)
        for job_id, attempt in legacy.items():
            self._open[job_id] = max(attempt, self._open.get(job_id, attempt))
        self._fd = -1
        self._compact()  # also ends a line a crash tore, before anything is appended to it
        for job_id in legacy:  # folded in above: the file now holds them
            (self.root / job_id).unlink(missing_ok=True)

    def began(self, job_id: str, attempt: int) -> None:
        """Attempt ``attempt`` of ``job_id`` is about to run."""
        with self._lock:
            self._append(f"+{job_id} {attempt}\n")
            self._open[job_id] = attempt

    def settled(self, job_ids: Iterable[str]) -> None:
        """These jobs' attempts are recorded (or will never be): forget them."""
        with self._lock:
            settled = [job_id for job_id in job_ids if self._open.pop(job_id, None) is not None]
            lines = [f"-{job_id}\n" for job_id in settled]
            if lines:
                self._append("".join(lines))
            if self._size > self._compact_bytes:
                self._compact()

    def entries(self) -> dict[str, int]:
        """Every attempt that began and is not settled: job id -> attempt number."""
        with self._lock:
            return dict(self._open)

    def clear(self) -> None:
        with self._lock:
            self._open.clear()
            self._compact()

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _append(self, text: str) -> None:
        data = text.encode()
        os.write(self._fd, data)  # O_APPEND: each write lands whole at the end
        self._size += len(data)

    def _compact(self) -> None:
        """Rewrite the file with the open entries only (a rename: never half a ledger)."""
        temporary = self.root / f"{_FILE}.tmp"
        text = "".join(f"+{job_id} {attempt}\n" for job_id, attempt in self._open.items())
        temporary.write_text(text)
        os.replace(temporary, self._path)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self._path, _FLAGS, 0o600)
        self._size = len(text.encode())


def _replay(path: Path) -> dict[str, int]:
    """The open entries of a ledger file; lines a crash tore are skipped."""
    found: dict[str, int] = {}
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return found
    for line in text.split("\n"):
        if line.startswith("+"):
            job_id, _, attempt = line[1:].partition(" ")
            if attempt.isdigit():
                found[job_id] = int(attempt)
        elif line.startswith("-"):
            found.pop(line[1:], None)
    return found


def _legacy_starts(root: Path) -> dict[str, int]:
    """The older layout's starts: a file per job, named after it, holding the attempt number
    (empty when a crash came between creating and writing it: counted as that layout did)."""
    found: dict[str, int] = {}
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name in (_FILE, f"{_FILE}.tmp") or not entry.is_file(follow_symlinks=False):
                continue
            try:
                with open(entry.path, "rb") as handle:
                    found[entry.name] = int(handle.read().strip() or b"0")
            except (OSError, ValueError):  # not one of that layout's files: left alone
                continue
    return found


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

    def close(self) -> None:
        """Nothing to let go of: the store owns its connection."""
