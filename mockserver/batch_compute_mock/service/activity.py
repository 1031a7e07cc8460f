"""What one function's jobs did over time, for people to look at: how many finished in each
recent minute (by outcome), and how long they ran.

Both come from one indexed read (``Reader.completions_per_minute``, ``Reader.runtime_counts``)
whose cost follows the function's finished jobs, so a page showing them stays fast at 100,000
jobs. The ownership rule is the API's: another owner's function is ``NotFound``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.errors import NotFound
from ..kernel.states import TERMINAL_JOB_STATUSES, JobStatus
from ..kernel.timestamps import format_timestamp, parse_timestamp
from ..store import Store
from .identity import Identity

__all__ = ["Activity", "ActivityService", "Minute", "RuntimeBin", "runtime_bins"]

#: The outcomes a finished job can have, in the order charts stack them.
OUTCOMES = tuple(
    status.value
    for status in (JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.TIMEOUT, JobStatus.CANCELED)
)
_NICE_STEPS = (1, 2, 5)


@dataclass(frozen=True)
class Minute:
    """One minute (``YYYY-MM-DDTHH:MM``, UTC) and the jobs that finished in it, by outcome."""

    start: str
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class RuntimeBin:
    """Finished jobs whose runtime (whole seconds) lies in ``[low, high)``."""

    low: int
    high: int
    count: int


@dataclass(frozen=True)
class Activity:
    """``minutes``: the last ``len(minutes)`` minutes up to the latest completion, oldest first
    (empty when no job has finished); ``runtimes``: the runtime histogram of every finished
    job."""

    minutes: tuple[Minute, ...]
    runtimes: tuple[RuntimeBin, ...]

    @property
    def finished(self) -> int:
        return sum(item.count for item in self.runtimes)


class ActivityService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def of_function(
        self, identity: Identity, function_id: str, minutes: int = 60, bins: int = 20
    ) -> Activity:
        with self._store.read() as store:
            if store.function(function_id, identity.owner) is None:
                raise NotFound(f"Function {function_id} not found.")
            latest = store.latest_completion(function_id)
            rows: list[tuple[str, str, int]] = []
            if latest is not None:
                first = _minute(parse_timestamp(latest)) - timedelta(minutes=minutes - 1)
                rows = store.completions_per_minute(function_id, format_timestamp(first))
            runtimes = store.runtime_counts(function_id)
        per_minute = () if latest is None else _minutes(rows, parse_timestamp(latest), minutes)
        return Activity(per_minute, runtime_bins(runtimes, bins))


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _minutes(rows: list[tuple[str, str, int]], latest: datetime, count: int) -> tuple[Minute, ...]:
    """Every minute of the window, those without completions included (zeros)."""
    by_minute: dict[str, dict[str, int]] = {}
    for minute, status, number in rows:
        if status in TERMINAL_JOB_STATUSES:
            by_minute.setdefault(minute, {})[status] = number
    last = _minute(latest)
    window = []
    for back in range(count - 1, -1, -1):
        key = format_timestamp(last - timedelta(minutes=back))[:16]
        counts = by_minute.get(key, {})
        window.append(Minute(key, {status: counts.get(status, 0) for status in OUTCOMES}))
    return tuple(window)


def runtime_bins(counts: Mapping[int, int], bins: int = 20) -> tuple[RuntimeBin, ...]:
    """``counts`` (runtime in seconds -> jobs) in about ``bins`` equal bins (at most one more)
    of a round width (1, 2, 5, 10, 20, 50... seconds), from the bin holding the shortest
    runtime to the one holding the longest; empty bins in between are kept."""
    if not counts:
        return ()
    low, high = min(counts), max(counts)
    width = _round_width(math.ceil((high - low + 1) / bins))
    first = low - low % width
    totals = [0] * ((high - first) // width + 1)
    for runtime, number in counts.items():
        totals[(runtime - first) // width] += number
    return tuple(
        RuntimeBin(first + index * width, first + (index + 1) * width, number)
        for index, number in enumerate(totals)
    )


def _round_width(minimum: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``minimum``."""
    scale = 1
    while True:
        for step in _NICE_STEPS:
            if step * scale >= minimum:
                return step * scale
        scale *= 10
