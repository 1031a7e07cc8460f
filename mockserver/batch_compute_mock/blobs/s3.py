"""The blob store in an S3 bucket (AWS, MinIO, Ceph, R2...) through fsspec's ``s3fs``.

``s3://bucket/prefix`` keeps key ``results/x`` as the object ``prefix/results/x``. Endpoint,
region and credentials come from the usual AWS environment variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``...) or a profile; the URL may
also name ``?endpoint_url=...&region=...`` so that it alone is enough for another process.

Every whole write is one PUT (a multipart upload for large files), which S3 makes visible
only once complete: a reader gets the old object or the new one. Bodies are spooled to a
local temporary file first, so a cap exceeded or a client gone midway uploads nothing. A
growing blob (a running job's log) is a base object plus parts, see ``blobs.segments``; every
read resolves a key through one listing, so a key and its parts are read together.

S3 not answering (after s3fs's and botocore's own retries) raises ``BlobStoreUnavailable``,
whatever the call: the API answers 503 to it, not 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import io
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..kernel.errors import PayloadTooLarge
from .keys import can_grow, key_segments
from .protocol import BlobStoreUnavailable
from .segments import Piece, base_key, part_key, pieces

__all__ = ["S3BlobStore"]

#: URL query options passed to s3fs; anything else in the query is an error.
_OPTIONS = ("endpoint_url", "region")
_SPOOL_BYTES = 8 << 20
_COPY_BYTES = 1 << 20


class S3BlobStore:
    """Objects under ``s3://bucket/prefix``; whole writes are atomic, logs grow by parts."""

    #: botocore's endpoint, region, profile and credential variables.
    environment_patterns: tuple[str, ...] = ("AWS_*",)
    #: A growing blob's buffered bytes are put as a part after this long / this much.
    flush_seconds = 1.0
    flush_bytes = 1 << 20
    #: A growing blob with this many parts is compacted into its base while it grows.
    compact_parts = 256

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"blob URL {url!r} must look like s3://bucket/prefix")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ValueError(
                f"blob URL {url!r}: unknown option(s) {', '.join(unknown)}; "
                f"supported: {', '.join(_OPTIONS)}"
            )
        prefix = parts.path.strip("/")
        if prefix:
            key_segments(prefix)  # the same safe characters as keys
        self.bucket = parts.netloc
        self.root = f"{self.bucket}/{prefix}" if prefix else self.bucket
        query = urlencode(options, safe=":/")
        self.url = f"s3://{self.root}" + (f"?{query}" if query else "")
        self.fs = _Reaching(_filesystem(options), f"s3://{self.bucket}")

    # Reading ----------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self._pieces(key) is not None

    def size(self, key: str) -> int:
        """Size in bytes; ``FileNotFoundError`` if missing."""
        return sum(piece.size for piece in self._found(key))

    def read_bytes(self, key: str) -> bytes:
        """The whole blob; ``FileNotFoundError`` if missing."""
        with self.open(key) as file:
            return file.read()

    def open(self, key: str) -> BinaryIO:
        """The blob opened for streaming binary reads (ranged GETs); the caller closes it."""
        raw = _PiecesReader(self.fs, self.root, self._found(key), lambda: self._found(key))
        return cast(BinaryIO, io.BufferedReader(raw, _COPY_BYTES))

    def fetch_file(self, key: str, path: Path) -> None:
        """Copy ``key`` to the local file ``path`` (``FileNotFoundError`` if missing)."""
        with self.open(key) as source, open(path, "wb") as sink:
            shutil.copyfileobj(source, sink, _COPY_BYTES)

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under the directory ``prefix`` (e.g. ``"results/"``), in no order."""
        directory = "/".join(key_segments(prefix.rstrip("/")))
        seen: set[str] = set()
        for name in self._find(directory + "/"):
            key = base_key(name)
            if key not in seen:
                seen.add(key)
                yield key

    def ping(self) -> None:
        """The bucket answers and these credentials may list it."""
        try:
            self.fs.call_s3("list_objects_v2", Bucket=self.bucket, MaxKeys=1)
        except BlobStoreUnavailable:
            raise
        except OSError as error:  # s3fs's translation: a missing bucket, access denied...
            raise OSError(f"s3://{self.bucket}: {error}") from error

    # Writing ----------------------------------------------------------------------------
    def write_bytes(self, key: str, data: bytes) -> int:
        """Replace ``key`` with ``data`` atomically; returns the size written."""
        self._drop_parts(key)
        self.fs.pipe_file(self._path(key), bytes(data))
        return len(data)

    def write_stream(self, key: str, chunks: Iterable[bytes], max_bytes: int | None = None) -> int:
        """Replace ``key`` atomically with the concatenated ``chunks``; returns the size.

        Over ``max_bytes`` raises ``PayloadTooLarge`` and leaves the old blob (or nothing) as
        it was; so does any other failure while reading ``chunks``.
        """
        with _Spool(max_bytes) as spool:
            for chunk in chunks:
                spool.write(chunk)
            return self._upload(key, spool)

    async def write_stream_async(
        self, key: str, chunks: AsyncIterable[bytes], max_bytes: int | None = None
    ) -> int:
        """``write_stream`` for an async body stream; the upload runs off the event loop."""
        with _Spool(max_bytes) as spool:
            async for chunk in chunks:
                spool.write(chunk)
            return await asyncio.to_thread(self._upload, key, spool)

    def put_file(self, key: str, path: Path) -> int:
        """Upload the finished local file ``path`` as ``key`` and remove it; returns its size."""
        size = os.stat(path).st_size
        self._drop_parts(key)
        self.fs.put_file(str(path), self._path(key))
        os.unlink(path)
        return size

    def open_appender(self, key: str, *, truncate: bool = True) -> _PartsAppender:
        """A writer that appends to ``key`` (emptied at once unless ``truncate`` is False) and
        puts what it is given as parts every ``flush_seconds``; ``close`` compacts them into one
        object. Like a directory's, it creates no blob until it is given bytes. Only a key
        that ``keys.can_grow`` may grow: a whole write of any other key looks for no parts."""
        key_segments(key)
        if not can_grow(key):
            raise ValueError(f"blob {key!r} cannot grow: only a job's log is appended to")
        if truncate:  # an earlier attempt's log is emptied at once; a first one costs a LIST
            listing = self._listing(key)
            if listing:
                self._remove([name for name in listing if name != key])
                self.fs.pipe_file(self._path(key), b"")
            offset = 0
        else:
            found = self._pieces(key)
            offset = sum(piece.size for piece in found) if found else 0
        return _PartsAppender(self, key, offset)

    def delete(self, key: str) -> bool:
        """Remove ``key`` (and its parts); returns whether it existed."""
        listing = self._listing(key)
        self._remove(list(listing))
        return pieces(key, listing) is not None

    def delete_prefix(self, prefix: str) -> int:
        """Remove every blob whose key starts with ``prefix``; returns how many.

        The prefix must name at least a top-level directory (``"results/"``,
        ``"results/ab"``), so one call can never empty the store.
        """
        directory, _, stem = prefix.rpartition("/")
        if not directory:
            raise ValueError(f"blob prefix {prefix!r} must start with a directory, e.g. 'results/'")
        if stem:
            key_segments(stem)
        names = list(self._find("/".join(key_segments(directory)) + "/" + stem))
        self._remove(names)
        return len({base_key(name) for name in names})

    # Internals --------------------------------------------------------------------------
    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _find(self, name_prefix: str) -> Iterator[str]:
        """Names (relative to the root) of every object whose name starts with
        ``name_prefix``, in one paginated listing."""
        yield from self._find_sizes(name_prefix)

    def _find_sizes(self, name_prefix: str) -> dict[str, int]:
        directory, _, stem = self._path(name_prefix).rpartition("/")
        found = self.fs.find(directory, prefix=stem, detail=True)
        start = len(self.root) + 1
        return {
            name[start:]: int(info.get("size") or 0)
            for name, info in found.items()
            if name.startswith(self._path(name_prefix)) and info.get("type") != "directory"
        }

    def _listing(self, key: str) -> dict[str, int]:
        """``key`` and its parts, with their sizes (one listing)."""
        key_segments(key)
        return {
            name: size
            for name, size in self._find_sizes(key).items()
            if name == key or base_key(name) == key
        }

    def _pieces(self, key: str) -> list[Piece] | None:
        return pieces(key, self._listing(key))

    def _found(self, key: str) -> list[Piece]:
        found = self._pieces(key)
        if found is None:
            raise FileNotFoundError(f"blob {key!r} not found")
        return found

    def _drop_parts(self, key: str) -> None:
        """A whole write replaces a growing blob too: its parts must not continue the new one.
        Only a key that can grow can have parts: the others cost no LIST."""
        key_segments(key)
        if can_grow(key):
            self._remove([name for name in self._listing(key) if name != key])

    def _remove(self, names: list[str]) -> None:
        if names:
            self.fs.rm([self._path(name) for name in names])

    def _upload(self, key: str, spool: _Spool) -> int:
        self._drop_parts(key)
        spool.file.flush()
        if spool.in_memory:
            spool.file.seek(0)
            self.fs.pipe_file(self._path(key), spool.file.read())
        else:
            self.fs.put_file(spool.file.name, self._path(key))
        return spool.size

    def _put_whole(self, key: str, data: bytes) -> None:
        """Put ``key`` with no parts to drop (an appender that never put one)."""
        self.fs.pipe_file(self._path(key), data)

    def _put_part(self, name: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(name), data)

    def _compact(self, key: str) -> None:
        """Write ``key``'s content as its base object, then remove its parts (the base covers
        them from the moment it is written, so readers see the same bytes throughout)."""
        listing = self._listing(key)
        found = pieces(key, listing)
        if found is not None and [piece.name for piece in found] != [key]:
            with _PiecesReader(self.fs, self.root, found, lambda: self._found(key)) as reader:
                self.fs.pipe_file(self._path(key), reader.readall())
        self._remove([name for name in listing if name != key])


def _filesystem(options: dict[str, str]) -> Any:
    import s3fs

    client_kwargs: dict[str, str] = {}
    if options.get("region"):
        client_kwargs["region_name"] = options["region"]
    return s3fs.S3FileSystem(
        endpoint_url=options.get("endpoint_url") or None,
        client_kwargs=client_kwargs,
        use_listings_cache=False,
        skip_instance_cache=True,
    )


def _outages() -> tuple[type[BaseException], ...]:
    """What s3fs lets through when S3 does not answer: botocore's own errors (no endpoint, a
    connection reset, a read timeout, no credentials) and fsspec's timeout."""
    from botocore.exceptions import BotoCoreError
    from fsspec.exceptions import FSTimeoutError

    return (BotoCoreError, FSTimeoutError, TimeoutError)


class _Reaching:
    """The s3fs filesystem, its failures to reach S3 raised as ``BlobStoreUnavailable`` (S3's
    answers, as a missing key, stay the ``OSError`` s3fs makes of them)."""

    def __init__(self, fs: Any, where: str) -> None:
        self._fs = fs
        self._where = where
        self._outages = _outages()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._fs, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except self._outages as error:
                raise BlobStoreUnavailable(f"{self._where} is unavailable: {error}") from error

        return call


class _Spool:
    """A request body kept in memory up to 8 MiB, then in a local temporary file."""

    def __init__(self, max_bytes: int | None) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.in_memory = True
        self.file: IO[bytes] = io.BytesIO()

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise PayloadTooLarge(f"Body exceeds the maximum size of {self.max_bytes} bytes")
        if self.in_memory and self.size > _SPOOL_BYTES:
            spilled = tempfile.NamedTemporaryFile(prefix="batch-compute-upload-")  # noqa: SIM115
            spilled.write(cast(io.BytesIO, self.file).getvalue())
            self.file, self.in_memory = spilled, False
        self.file.write(chunk)


class _PiecesReader(io.RawIOBase):
    """A read-only, seekable view of a blob's pieces, fetched with ranged GETs on demand.

    A part compacted away between the listing and the read is found again through
    ``relist`` (a growing blob only grows, so the bytes at a position never change).
    """

    def __init__(
        self,
        fs: Any,
        root: str,
        found: list[Piece],
        relist: Callable[[], list[Piece]],
    ) -> None:
        self._fs = fs
        self._root = root
        self._pieces = found
        self._relist = relist
        self._size = sum(piece.size for piece in found)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self._read(max(0, self._size - self._position))

    def _read(self, wanted: int) -> bytes:
        out = bytearray()
        attempts = 0
        while wanted > 0 and self._position < self._size:
            try:
                chunk = self._read_piece(wanted)
            except OSError as error:
                # A part compacted away (not found), or an object replaced by a shorter one
                # (a retried job's log emptied: the range is not satisfiable): list again.
                if attempts == 2 or not _changed_under_us(error):
                    raise
                attempts += 1
                self._relist_pieces()
                continue
            if not chunk:
                break
            out += chunk
            self._position += len(chunk)
            wanted -= len(chunk)
        return bytes(out)

    def _relist_pieces(self) -> None:
        try:
            self._pieces = self._relist()
        except FileNotFoundError:  # deleted meanwhile: nothing more to read
            self._pieces = []
        self._size = sum(piece.size for piece in self._pieces)

    def _read_piece(self, wanted: int) -> bytes:
        """Bytes from the piece holding the current position (at most ``wanted``)."""
        start = 0
        for piece in self._pieces:
            if self._position < start + piece.size:
                begin = self._position - start
                end = min(piece.size, begin + wanted)
                return bytes(self._fs.cat_file(f"{self._root}/{piece.name}", start=begin, end=end))
            start += piece.size
        return b""


def _changed_under_us(error: OSError) -> bool:
    """Whether a ranged GET failed because the object went or shrank since it was listed."""
    return isinstance(error, FileNotFoundError) or error.errno == errno.EINVAL


class _PartsAppender:
    """Buffers a growing blob's bytes and puts them as parts (see ``blobs.segments``).

    ``write`` never waits on S3 unless ``flush_bytes`` are buffered; a timer puts the rest
    within ``flush_seconds``, so a reader on any server sees output about a second after the
    job wrote it. ``close`` puts the last bytes and compacts the parts into one object (a log
    that never needed a part, as a short job's, is put whole in one PUT; an empty one not at all).
    """

    def __init__(self, store: S3BlobStore, key: str, offset: int) -> None:
        self._store = store
        self._key = key
        self._offset = offset
        self._fresh = offset == 0  # nothing before this appender's bytes (a truncated log)
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._parts = 0
        self._closed = False

    def write(self, data: bytes) -> None:
        with self._lock:
            assert not self._closed, "the appender is closed"
            self._buffer += data
            if len(self._buffer) >= self._store.flush_bytes:
                # S3 not answering: the bytes stay in the buffer, tried again later
                with contextlib.suppress(BlobStoreUnavailable):
                    self._flush()
            elif self._timer is None and self._buffer:
                self._timer = threading.Timer(self._store.flush_seconds, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._fresh and self._offset == 0:  # no part yet: the buffer is the whole blob
                if self._buffer:  # a job that printed nothing has no log blob (as on disk)
                    self._store._put_whole(self._key, bytes(self._buffer))
                return
            self._flush()
            self._store._compact(self._key)

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if self._closed:
                return
            try:
                self._flush()
            except Exception:  # kept in the buffer: the next write or close tries again
                return

    def _flush(self) -> None:
        if not self._buffer:
            return
        data = bytes(self._buffer)
        self._store._put_part(part_key(self._key, self._offset), data)
        self._buffer.clear()
        self._offset += len(data)
        self._parts += 1
        if self._parts >= self._store.compact_parts:
            self._store._compact(self._key)
            self._parts = 0
