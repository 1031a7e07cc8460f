"""Blobs as plain files under one data directory, addressed by slash-separated keys.

Bundles, build logs, job logs and results are all bytes the server writes once (or appends
to) and later streams back, so files are enough. Keys are validated strictly because some of
their parts (function and job ids) come from clients: a key is one or more segments of
``[A-Za-z0-9_-]`` and ``.`` that do not start with a dot, which also keeps keys from
colliding with the ``.tmp-*`` files that atomic writes use.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import AsyncIterable, Iterable
from pathlib import Path
from typing import BinaryIO

from batch_compute_mock.service.errors import PayloadTooLarge

__all__ = [
    "BlobStore",
    "build_log_key",
    "bundle_key",
    "job_log_key",
    "result_key",
]

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}")
_TMP_PREFIX = ".tmp-"


def bundle_key(function_id: str) -> str:
    """Where a function's uploaded zip lives."""
    return f"bundles/{function_id}.zip"


def build_log_key(function_id: str) -> str:
    """Where a function's (plain text) build log lives."""
    return f"build-logs/{function_id}.log"


def job_log_key(job_id: str | int) -> str:
    """Where a job's NDJSON log lives."""
    return f"job-logs/{job_id}.ndjson"


def result_key(blob_id: str) -> str:
    """A safe key for a result blob id such as ``compute/org:abc/F/J``.

    Blob ids contain ``:`` and ``/`` and are chosen partly by the client, so they are hashed
    rather than escaped: fixed length, one directory, no way to name another file.
    """
    return "results/" + hashlib.sha256(blob_id.encode("utf-8")).hexdigest()


def _segments(key: str) -> list[str]:
    """The validated segments of ``key``; ``ValueError`` for anything not plainly relative."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"blob key must be a non-empty string, got {key!r}")
    parts = key.split("/")
    for part in parts:
        if not _SEGMENT.fullmatch(part):
            raise ValueError(
                f"unsafe blob key {key!r}: segment {part!r} must be 1-255 characters of "
                "letters, digits, '_', '-' or '.', not starting with '.'"
            )
    return parts


class BlobStore:
    """Files under ``root``; every write of a whole blob is atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._append_lock = threading.Lock()

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (it may not exist)."""
        return self.root.joinpath(*_segments(key))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        """Size in bytes; ``FileNotFoundError`` if missing."""
        return self.path(key).stat().st_size

    def read_bytes(self, key: str) -> bytes:
        """The whole blob; ``FileNotFoundError`` if missing."""
        return self.path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        """The blob opened for binary reading; the caller closes it."""
        return self.path(key).open("rb")

    def write_bytes(self, key: str, data: bytes) -> int:
        """Replace ``key`` with ``data`` atomically; returns the size written."""
        return self.write_stream(key, [data])

    def write_stream(self, key: str, chunks: Iterable[bytes], max_bytes: int | None = None) -> int:
        """Replace ``key`` atomically with the concatenated ``chunks``; returns the size.

        Over ``max_bytes`` raises ``PayloadTooLarge`` and leaves the old blob (or nothing) as
        it was. Any other failure also removes the partial file.
        """
        with self._atomic_writer(key) as writer:
            for chunk in chunks:
                writer.write(chunk, max_bytes)
            return writer.commit()

    async def write_stream_async(
        self, key: str, chunks: AsyncIterable[bytes], max_bytes: int | None = None
    ) -> int:
        """``write_stream`` for an async body stream (e.g. an ASGI request)."""
        with self._atomic_writer(key) as writer:
            async for chunk in chunks:
                writer.write(chunk, max_bytes)
            return writer.commit()

    def append_text(self, key: str, text: str) -> None:
        """Append UTF-8 ``text`` (whole lines) to ``key``, creating it if needed.

        Not atomic, but each call is a single ``O_APPEND`` write under a lock, so lines from
        concurrent writers never interleave.
        """
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        with self._append_lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)

    def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it existed."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def delete_prefix(self, prefix: str) -> int:
        """Remove every blob whose key starts with ``prefix``; returns how many.

        ``"job-logs/"`` removes a whole directory's blobs; ``"results/ab"`` removes the
        ``results`` blobs whose names start with ``ab``. The prefix must name at least a
        top-level directory, so one call can never empty the store.
        """
        directory, _, stem = prefix.rpartition("/")
        if not directory:
            raise ValueError(f"blob prefix {prefix!r} must start with a directory, e.g. 'results/'")
        if stem:
            _segments(stem)
        base = self.path(directory)
        if not base.is_dir():
            return 0
        removed = 0
        for entry in list(base.iterdir()):
            if not entry.name.startswith(stem) or entry.name.startswith(_TMP_PREFIX):
                continue
            if entry.is_dir() and not entry.is_symlink():
                removed += sum(1 for p in entry.rglob("*") if p.is_file())
                shutil.rmtree(entry)
            else:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def _atomic_writer(self, key: str) -> _AtomicWriter:
        return _AtomicWriter(self.path(key))


class _AtomicWriter:
    """A temp file next to the target that becomes the target only on ``commit``."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.size = 0
        self._committed = False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=target.parent)
        self._tmp = Path(name)
        self._file = os.fdopen(fd, "wb")

    def __enter__(self) -> _AtomicWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._committed:
            self._file.close()
            self._tmp.unlink(missing_ok=True)

    def write(self, chunk: bytes, max_bytes: int | None) -> None:
        self.size += len(chunk)
        if max_bytes is not None and self.size > max_bytes:
            raise PayloadTooLarge(f"Body exceeds the maximum size of {max_bytes} bytes")
        self._file.write(chunk)

    def commit(self) -> int:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.chmod(self._tmp, 0o644)
        os.replace(self._tmp, self.target)
        self._committed = True
        return self.size
