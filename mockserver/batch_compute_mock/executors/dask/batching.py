"""How many job attempts go in each Dask task: few tasks for the scheduler, yet every worker
busy.

Each task costs the Dask scheduler and a worker about as much as a trivial job costs our
pool, so attempts of one function go several per task (``worker.run_jobs`` runs them one after
another in one worker-resource slot). Never so few tasks that a worker would idle: at least
``SPREAD`` tasks per slot the cluster has for the job's shape (or one per attempt, when there
are fewer), and never more than ``MAX_BATCH`` attempts in one, so one slow job holds back few.

Attempts mostly come a few at a time (as others end), so while enough are queued with Dask
to keep every slot busy, new ones wait up to ``HOLD_SECONDS`` (or until the queue runs low)
to go together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["HOLD_SECONDS", "MAX_BATCH", "SPREAD", "batch_sizes", "cluster_room", "enough_queued"]

MAX_BATCH = 16
SPREAD = 2
#: How long new attempts may wait to fill a task while enough others are queued.
HOLD_SECONDS = 0.02


def cluster_room(cpus: float, memory_bytes: float, workers: Iterable[Mapping[str, Any]]) -> int:
    """How many jobs needing ``cpus`` and ``memory_bytes`` the cluster runs at once (the
    scheduler's worker records, ``identity()["workers"].values()``, with their resources)."""
    room = 0
    for worker in workers:
        resources = worker.get("resources") or {}
        by_cpus = float(resources.get("cpus", 0.0)) / cpus if cpus > 0 else math.inf
        by_memory = (
            float(resources.get("memory", 0.0)) / memory_bytes if memory_bytes > 0 else math.inf
        )
        fits = min(by_cpus, by_memory)
        room += int(fits) if math.isfinite(fits) else 1
    return room


def enough_queued(queued: int, room: int) -> bool:
    """Whether ``queued`` attempts handed over and not begun keep a cluster with ``room``
    slots for them busy (new ones may wait a moment to go in fuller tasks)."""
    return queued >= SPREAD * max(room, 1)


def batch_sizes(count: int, room: int, queued: int = 0) -> list[int]:
    """Split ``count`` attempts into tasks for a cluster with ``room`` slots for them, where
    ``queued`` attempts handed over earlier have not begun: as many tasks as it takes for
    ``SPREAD`` per slot (one per attempt at most), and no task over ``MAX_BATCH``."""
    if count <= 0:
        return []
    wanted = max(1, SPREAD * max(room, 1) - queued)
    tasks = max(min(count, wanted), math.ceil(count / MAX_BATCH))
    size, extra = divmod(count, tasks)
    return [size + 1] * extra + [size] * (tasks - extra)
