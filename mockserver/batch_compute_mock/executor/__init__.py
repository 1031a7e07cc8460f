"""Job execution: warm worker processes that run user functions (see ``pool``, ``worker``).

Exports are loaded lazily so that a worker process importing ``executor.worker`` does not pull
in asyncio or the scheduler.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["JobOutcome", "JobSpec", "OutcomeStatus", "PoolStats", "StopReason", "WorkerPool"]

_HOMES = {
    "JobOutcome": ".outcome",
    "OutcomeStatus": ".outcome",
    "StopReason": ".outcome",
    "JobSpec": ".spec",
    "PoolStats": ".pool",
    "WorkerPool": ".pool",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name], __name__), name)
