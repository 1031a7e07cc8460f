"""A window of a job's log: its last lines, or what was added since a reader's last look.

A running job's log grows while people watch it; a page reads the tail once, then asks
for what lies after the offset it reached. Windows hold whole lines only (a line being
written is left for the next look), and a log shorter than the offset asked for has been
restarted (a retried job's log shows its last attempt), so the window starts again at its
tail.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..blobs import BlobStore

__all__ = ["LogWindow", "read_log_window"]


@dataclass(frozen=True)
class LogWindow:
    """Bytes ``[start, end)`` of a log that is ``size`` bytes long; ``data`` ends with a
    newline (or is empty). ``restarted``: the offset asked for was past the log's end."""

    start: int
    end: int
    size: int
    data: bytes
    restarted: bool = False


def read_log_window(blobs: BlobStore, key: str, offset: int | None, limit: int) -> LogWindow:
    """From ``offset`` (None: the last ``limit`` bytes), at most ``limit`` bytes of whole lines;
    an empty window when the log does not exist yet."""
    try:
        size = blobs.size(key)
    except FileNotFoundError:
        return LogWindow(0, 0, 0, b"", restarted=bool(offset))
    restarted = offset is not None and offset > size
    tail = offset is None or restarted
    start = max(0, size - limit) if tail else int(offset or 0)
    with blobs.open(key) as file:
        file.seek(start)
        data = file.read(min(limit, size - start) if not tail else size - start)
    if tail and start > 0:  # begin at the first whole line
        cut = data.find(b"\n")
        start, data = (start + cut + 1, data[cut + 1 :]) if cut >= 0 else (size, b"")
    last = data.rfind(b"\n")
    data = data[: last + 1]
    return LogWindow(start, start + len(data), size, data, restarted)
