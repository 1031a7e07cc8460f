"""Job log capture: raw stdout/stderr bytes in, ndjson lines out (wire-protocol 7.9).

Each line of output becomes ``{"date": "2024-05-01T12:00:01.000000Z", "log": "text"}`` and a
newline: the text without its line ending (``\\n``, or ``\\r\\n``), invalid UTF-8 replaced. The file
never holds a blank line. Lines are stamped with the time their bytes were read (one stamp per
read, so the lines of one burst share it), written as they arrive so the log can be served while
the job runs, and a trailing partial line is written by ``close``. A line longer than
``max_line_bytes`` is split into several entries.

The file is capped at ``cap_bytes``: the last line that fits is followed by a marker entry
(``[log truncated: ...]``) and all further output is read and discarded, so a job that prints
100 MB is neither blocked on a full pipe nor killed; it just loses the excess log.

A blob store that fails while the log is written (S3 unreachable) costs log text, never the
job: the failure is logged, the text it held is counted in ``lost_bytes``, and a marker entry
says so in the log when the store takes writes again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ...blobs import BlobAppender

__all__ = ["DEFAULT_LOG_CAP_BYTES", "LogWriter", "UnopenedLog", "log_date"]

DEFAULT_LOG_CAP_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 256 * 1024
_DATE_WIDTH = len("2024-05-01T12:00:01.000000Z")

log = logging.getLogger(__name__)


def log_date(epoch: float) -> str:
    """``2024-05-01T12:00:01.000000Z`` (the stored form with ``Z`` for ``+00:00``)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _size_text(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def _entry(date: str, text: str) -> bytes:
    return ('{"date": "' + date + '", "log": ' + json.dumps(text) + "}\n").encode()


class UnopenedLog:
    """The sink of a log whose blob could not be opened (the store failed): what is written
    to it is lost, and ``LogWriter`` counts it so."""

    def __init__(self, error: Exception) -> None:
        self.reason = f"the log could not be opened: {error}"

    def write(self, data: bytes) -> None:
        raise OSError(self.reason)

    def close(self) -> None:
        """Nothing was opened."""


class LogWriter:
    """Writes one job's ndjson log into a blob appender; owned by the process that reads the
    job's pipe. ``written_bytes`` continues a log that already holds that much (the cap counts
    it)."""

    def __init__(
        self,
        sink: BlobAppender,
        cap_bytes: int = DEFAULT_LOG_CAP_BYTES,
        *,
        written_bytes: int = 0,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sink: BlobAppender | None = sink
        self._clock = clock
        self._pending = b""
        self._max_line = max(1, int(max_line_bytes))
        self._marker_text = (
            f"[log truncated: the job's output exceeded the log limit of {_size_text(cap_bytes)};"
            " further output was discarded]"
        )
        self._budget = int(cap_bytes) - len(_entry("x" * _DATE_WIDTH, self._marker_text))
        self.bytes_written = int(written_bytes)
        self.discarded_bytes = 0
        self.truncated = False
        self.lost_bytes = 0
        self.incomplete = False  # the store failed: some of the log may be missing
        self._unreported = 0  # lost bytes the log does not say yet

    def feed(self, data: bytes) -> None:
        """Take the next chunk of raw output."""
        if self.truncated:
            self.discarded_bytes += len(data)
            return
        lines = (self._pending + data).split(b"\n") if self._pending else data.split(b"\n")
        self._pending = lines.pop()
        if len(self._pending) > self._max_line:
            *pieces, self._pending = self._split(self._pending)
            lines.extend(pieces)
        if lines:
            self._write(lines)

    def _split(self, line: bytes) -> list[bytes]:
        """Pieces of at most ``max_line_bytes``, cut between UTF-8 sequences."""
        pieces = []
        while len(line) > self._max_line:
            cut = self._max_line
            while cut > 1 and (line[cut] & 0xC0) == 0x80:
                cut -= 1
            pieces.append(line[:cut])
            line = line[cut:]
        pieces.append(line)
        return pieces

    def close(self) -> None:
        """Write the trailing partial line, if any, and close the sink."""
        if self._sink is None:
            return
        if self._pending and not self.truncated:
            pending, self._pending = self._pending, b""
            self._write([pending])
        sink, self._sink = self._sink, None
        try:
            sink.close()
        except Exception as error:  # the store failed: the job's outcome stands
            log.warning("a job's log could not be finished: %s", error)
            self.incomplete = True

    def _write(self, lines: list[bytes]) -> None:
        date = log_date(self._clock())
        out: list[bytes] = []
        size = self.bytes_written
        if any(len(raw) > self._max_line for raw in lines):
            lines = [piece for raw in lines for piece in self._split(raw)]
        for index, raw in enumerate(lines):
            text = raw[:-1] if raw.endswith(b"\r") else raw
            entry = _entry(date, text.decode("utf-8", "replace"))
            if size + len(entry) > self._budget:
                out.append(_entry(date, self._marker_text))
                self.truncated = True
                self.discarded_bytes += sum(len(rest) + 1 for rest in lines[index:])
                self.discarded_bytes += len(self._pending)
                self._pending = b""
                break
            out.append(entry)
            size += len(entry)
        blob = b"".join(out)
        assert self._sink is not None, "the log is closed"
        if self._unreported:
            blob = _entry(date, self._lost_text()) + blob
        try:
            self._sink.write(blob)
        except Exception as error:  # the store failed: this text is lost, the job goes on
            log.warning("a job's log lost %d bytes: %s", len(blob), error)
            self.lost_bytes += len(blob)
            self._unreported += len(blob)
            self.incomplete = True
            return
        self._unreported = 0
        self.bytes_written += len(blob)

    def _lost_text(self) -> str:
        return (
            f"[log incomplete: {self._unreported} bytes of this job's log were lost while the"
            " blob store failed]"
        )
