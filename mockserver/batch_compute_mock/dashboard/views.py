"""What the pages show, shaped from what the services return: counts grouped by status,
readable times and sizes, log lines, the build failure, a result's preview.

The template filters registered by ``pages`` are the plain functions here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..kernel.states import FunctionStatus, JobStatus

__all__ = [
    "ACTIVE_JOB_GROUPS",
    "JOB_GROUPS",
    "LogLine",
    "Preview",
    "build_failure",
    "byte_size",
    "group_counts",
    "log_lines",
    "mebibytes",
    "number",
    "pretty_json",
    "preview",
    "seconds",
    "short_id",
    "status_label",
    "when",
]

#: The job counts a person looks for, and the statuses each one gathers: a job being
#: canceled is still running until its worker has stopped.
JOB_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("pending", frozenset({JobStatus.PENDING})),
    ("running", frozenset({JobStatus.RUNNING, JobStatus.CANCEL, JobStatus.CANCELING})),
    ("success", frozenset({JobStatus.SUCCESS})),
    ("failure", frozenset({JobStatus.FAILURE})),
    ("timeout", frozenset({JobStatus.TIMEOUT})),
    ("canceled", frozenset({JobStatus.CANCELED})),
)
#: The groups whose jobs are still to finish: a page showing them keeps itself up to date.
ACTIVE_JOB_GROUPS = frozenset({"pending", "running"})

_FUNCTION_LABELS = {
    FunctionStatus.AWAITING_BUNDLE: "awaiting bundle",
    FunctionStatus.BUILD_FAILED: "build failed",
}


def group_counts(statistics: Mapping[str, int]) -> list[tuple[str, int]]:
    """``job_statistics`` (counts per job status) as the six counts of ``JOB_GROUPS``."""
    return [
        (group, sum(statistics.get(status, 0) for status in statuses))
        for group, statuses in JOB_GROUPS
    ]


def status_label(status: str) -> str:
    """A function status in words (``build_failed`` -> ``build failed``)."""
    try:
        return _FUNCTION_LABELS.get(FunctionStatus(status), status)
    except ValueError:
        return status


def short_id(identifier: str) -> str:
    """The end of an id: job ids begin with their time, so their ends tell them apart."""
    return identifier if len(identifier) <= 12 else "…" + identifier[-12:]


def when(stamp: str | None) -> str:
    """``2024-05-01T12:00:03.123456+00:00`` -> ``2024-05-01 12:00:03`` (UTC); None -> a dash."""
    if not stamp:
        return "—"
    return f"{stamp[:10]} {stamp[11:19]}"


def number(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


def seconds(value: int | float | None) -> str:
    """``75`` -> ``1 min 15 s``."""
    if value is None:
        return "—"
    whole = int(value)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def mebibytes(value: int | None) -> str:
    """Memory in MiB as people write it: ``2048`` -> ``2 GiB``."""
    if value is None:
        return "—"
    if value >= 1024 and value % 1024 == 0:
        return f"{value // 1024} GiB"
    return f"{value:,} MiB"


def byte_size(value: int | None) -> str:
    """``1536`` -> ``1.5 KiB``."""
    if value is None:
        return "—"
    size = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def pretty_json(value: Any) -> str:
    """JSON on one line when it is short, indented otherwise."""
    compact = json.dumps(value, ensure_ascii=False)
    return compact if len(compact) <= 80 else json.dumps(value, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class LogLine:
    date: str  #: as logged: ``2024-05-01T12:00:01.000000Z``
    text: str

    @property
    def clock(self) -> str:
        """The time of day, to the millisecond: ``12:00:01.000``."""
        return self.date[11:23] if len(self.date) >= 23 else self.date


def log_lines(data: bytes) -> list[LogLine]:
    """A job log's NDJSON lines (``{"date": ..., "log": ...}``); a line that is not one is
    shown as it is."""
    lines = []
    for raw in data.decode("utf-8", "replace").splitlines():
        if not raw:
            continue
        try:
            entry = json.loads(raw)
            lines.append(LogLine(str(entry["date"]), str(entry["log"])))
        except (ValueError, KeyError, TypeError):
            lines.append(LogLine("", raw))
    return lines


def build_failure(log: str) -> str | None:
    """Why the build failed: the build log's last ``Build failed: <reason>`` line."""
    for line in reversed(log.splitlines()):
        _, marker, reason = line.partition("Build failed: ")
        if marker:
            return reason.strip()
    return None


@dataclass(frozen=True)
class Preview:
    """How a result is shown: ``json`` (pretty-printed), ``text``, or ``binary`` (not shown);
    ``truncated`` when only its beginning is."""

    kind: str
    text: str
    truncated: bool


def preview(data: bytes, size: int, limit: int) -> Preview:
    """The first ``limit`` bytes of a result of ``size`` bytes, shown as JSON or text if they
    are (a JSON value whose start alone is shown is shown as text)."""
    truncated = size > limit
    head = data[:limit]
    if not truncated:
        try:
            return Preview("json", pretty_json(json.loads(head)), False)
        except (ValueError, RecursionError):
            pass
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # Cut inside a character at the limit: what comes before it is still text.
        if not truncated or error.start < len(head) - 3:
            return Preview("binary", "", truncated)
        text = head[: error.start].decode("utf-8")
    if any(ord(char) < 32 and char not in "\t\n\r" for char in text):
        return Preview("binary", "", truncated)
    return Preview("text", text, truncated)
