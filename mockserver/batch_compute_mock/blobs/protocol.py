"""The blob store's interface: bytes under keys, written whole or streamed, read back.

Bundles, build logs, job logs and results are all bytes the server writes once (or, for a
running job's log, appends to) and later streams back. Whole writes are atomic: a reader sees
the old blob or the new one, never part of one. Keys come from ``blobs.keys``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["BlobAppender", "BlobStore", "BlobStoreUnavailable"]


class BlobStoreUnavailable(ConnectionError):
    """The store did not answer (an outage, the network): the same request may work later.

    A ``ConnectionError``, so an ``OSError``, yet never a ``FileNotFoundError``: code that
    takes a missing blob for "not written yet" does not take an outage for that.
    """


class BlobAppender(Protocol):
    """A blob being written as it grows (a running job's log): readable while it grows."""

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


class BlobStore(Protocol):
    """Missing blobs raise ``FileNotFoundError``; writes over a cap raise ``PayloadTooLarge``;
    a store that cannot be reached raises ``BlobStoreUnavailable``."""

    #: Where the store is, as a URL another process can open it from (``blobs.open_blobs``).
    url: str
    #: Environment variables (``fnmatch`` patterns) a process opening ``url`` reads, e.g. an
    #: S3 store's credentials: the local executor's workers keep them.
    environment_patterns: tuple[str, ...]

    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def read_bytes(self, key: str) -> bytes: ...
    def open(self, key: str) -> BinaryIO: ...
    def write_bytes(self, key: str, data: bytes) -> int: ...
    def write_stream(
        self, key: str, chunks: Iterable[bytes], max_bytes: int | None = None
    ) -> int: ...
    async def write_stream_async(
        self, key: str, chunks: AsyncIterable[bytes], max_bytes: int | None = None
    ) -> int: ...
    def put_file(self, key: str, path: Path) -> int: ...
    def fetch_file(self, key: str, path: Path) -> None: ...
    def open_appender(self, key: str, *, truncate: bool = True) -> BlobAppender: ...
    def delete(self, key: str) -> bool: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def keys(self, prefix: str) -> Iterator[str]: ...
    def ping(self) -> None:
        """Return when the store can be read and written; raise ``OSError`` when not."""
        ...
