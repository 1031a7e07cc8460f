"""Misbehaving Dask workers and tasks for the cluster executor's tests (shipped to workers by
reference: they import ``support`` as the test process does)."""

from __future__ import annotations

import os
import signal
import sys
import types
from typing import Any

from distributed import WorkerPlugin

__all__ = ["CrashOnOurTasks", "add_one", "refused_here", "unreadable_result"]


class CrashOnOurTasks(WorkerPlugin):
    """Kills its worker as soon as one of the server's tasks begins on it: the worker is lost
    before any job of the task can announce its start."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "executing" and isinstance(key, str) and key.startswith(self.prefix):
            os.kill(os.getpid(), signal.SIGKILL)


def add_one(x: int) -> int:
    return x + 1


def unreadable_result() -> object:
    """An object of a class only this worker has, so no other process can read it back."""
    module = types.ModuleType("only_on_this_dask_worker")
    exec("class Thing:\n    pass\n", module.__dict__)
    sys.modules[module.__name__] = module
    return module.Thing()


def refused_here(job_ids: list[str], attempt: int, dask_worker: Any) -> bool:
    """Run on a worker (``Client.run``): whether its plugin holds a cancel for each job."""
    plugins = [dask_worker.plugins.get(n) for n in ("batch-compute", "batch-compute-fallback")]
    active = [p for p in plugins if p is not None and getattr(p, "active", False)]
    return bool(active) and all(active[0].refused(job_id, attempt) for job_id in job_ids)
