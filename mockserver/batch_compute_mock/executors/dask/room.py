"""Whether any worker of the cluster has room for a job: the reason a job waits.

A task whose resources no worker has stays in the scheduler (Dask runs it as soon as a worker
with room joins); ``no_room_reason`` words why, so the job's record can say it instead of the
job waiting in silence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["no_room_reason"]

MIB = 1024 * 1024


def no_room_reason(
    cpus: float, memory_bytes: float, workers: Iterable[Mapping[str, Any]]
) -> str | None:
    """Why no worker can run a job needing ``cpus`` and ``memory_bytes`` (None: one can).

    ``workers`` are the scheduler's worker records (``identity()["workers"].values()``), each
    with its ``resources``.
    """
    largest_cpus = largest_memory = 0.0
    count = 0
    for worker in workers:
        count += 1
        resources = worker.get("resources") or {}
        have_cpus = float(resources.get("cpus", 0.0))
        have_memory = float(resources.get("memory", 0.0))
        if have_cpus >= cpus and have_memory >= memory_bytes:
            return None
        largest_cpus = max(largest_cpus, have_cpus)
        largest_memory = max(largest_memory, have_memory)
    need = f"cpus={cpus:g}, memory={memory_bytes / MIB:.0f} MiB"
    if count == 0:
        return f"Waiting for a Dask worker: the cluster has none (the job needs {need})."
    return (
        f"Waiting for a Dask worker with room: the job needs {need}; the largest of the "
        f"cluster's {count} worker(s) has cpus={largest_cpus:g}, "
        f"memory={largest_memory / MIB:.0f} MiB. It runs once a worker that large joins."
    )
