"""The blob store as plain files under one directory (the default, and the fastest).

Whole writes go to a temporary file beside the target and are renamed over it, so a reader
sees the old blob or the new one. ``put_file`` moves a finished local file in (a rename when
it is on the same filesystem). An appender writes the file in place with ``O_APPEND``, so a
running job's log can be read while it grows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..kernel.errors import PayloadTooLarge
from .keys import key_segments

__all__ = ["LocalBlobStore"]

_TMP_PREFIX = ".tmp-"


class LocalBlobStore:
    """Files under ``root``; every write of a whole blob is atomic (temp file + rename)."""

    environment_patterns: tuple[str, ...] = ()

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = self.root.as_uri()

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (it may not exist)."""
        return self.root.joinpath(*key_segments(key))

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

    def put_file(self, key: str, path: Path) -> int:
        """Move the finished local file ``path`` in as ``key``; returns its size."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        size = os.stat(path).st_size
        try:
            os.chmod(path, 0o644)
            os.replace(path, target)
        except OSError:  # another filesystem: copy atomically, then drop the original
            with open(path, "rb") as source:
                self.write_stream(key, iter(lambda: source.read(1 << 20), b""))
            os.unlink(path)
        return size

    def fetch_file(self, key: str, path: Path) -> None:
        """Copy ``key`` to the local file ``path`` (``FileNotFoundError`` if missing)."""
        shutil.copyfile(self.path(key), path)

    def open_appender(self, key: str, *, truncate: bool = True) -> _Appender:
        """A writer that appends to ``key`` in place, creating it at the first write (emptied
        first unless ``truncate`` is False)."""
        return _Appender(self.path(key), truncate)

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under the directory ``prefix`` (e.g. ``"results/"``), in no order."""
        base = self.root.joinpath(*key_segments(prefix.rstrip("/")))
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith(_TMP_PREFIX):
                yield path.relative_to(self.root).as_posix()

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
            key_segments(stem)
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

    def ping(self) -> None:
        """The directory is there and this process may write in it."""
        if not self.root.is_dir():
            raise FileNotFoundError(f"blob directory {self.root} is missing")
        if not os.access(self.root, os.R_OK | os.W_OK | os.X_OK):
            raise PermissionError(f"blob directory {self.root} is not writable")

    def _atomic_writer(self, key: str) -> _AtomicWriter:
        return _AtomicWriter(self.path(key))


class _Appender:
    """A file written in place with ``O_APPEND``: each ``write`` lands whole, readable at once.

    The file is created by the first write, not before: most jobs print nothing, and creating
    a file costs more than the rest of a trivial job. With ``truncate``, what the key held
    before is emptied at once.
    """

    def __init__(self, target: Path, truncate: bool) -> None:
        self._target = target
        self._fd: int | None = None
        self._closed = False
        if truncate:
            with contextlib.suppress(FileNotFoundError):
                os.truncate(target, 0)

    def write(self, data: bytes) -> None:
        assert not self._closed, "the appender is closed"
        if not data:
            return
        if self._fd is None:
            self._fd = self._open()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        try:
            return os.open(self._target, flags, 0o644)
        except FileNotFoundError:
            self._target.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self._target, flags, 0o644)


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
