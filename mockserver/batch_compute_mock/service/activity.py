"""What one function's jobs did over time, for people to look at: how many finished in each
recent minute (by outcome), and how long they ran.

Both come from indexed reads (``Reader.completions_between``, ``Reader.runtime_counts``)
whose cost follows the function's finished jobs, so a page showing them stays fast at 100,000
jobs. The ownership rule is the API's: another owner's function is ``NotFound``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.errors import NotFound
from ..kernel.states import JobStatus
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
_MINUTE = timedelta(minutes=1)


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
            starts: list[datetime] = []
            counts: list[dict[str, int]] = []
            if latest is not None:
                last = parse_timestamp(latest).replace(second=0, microsecond=0)
                starts = [last - timedelta(minutes=back) for back in range(minutes - 1, -1, -1)]
                edges = [format_timestamp(start) for start in [*starts, last + _MINUTE]]
                counts = store.completions_between(function_id, edges)
            runtimes = store.runtime_counts(function_id)
        window = tuple(
            Minute(format_timestamp(start)[:16], {o: slot.get(o, 0) for o in OUTCOMES})
            for start, slot in zip(starts, counts, strict=True)
        )
        return Activity(window, runtime_bins(runtimes, bins))


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
