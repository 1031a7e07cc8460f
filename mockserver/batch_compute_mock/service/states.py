"""The one table of lifecycle transitions for functions and jobs.

The store applies every transition as compare-and-set (``UPDATE ... WHERE status IN
(allowed sources)``), so two racing actors cannot both win: a cancel that arrives after the
executor recorded ``success`` matches no row and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "FUNCTION_TRANSITIONS",
    "JOB_TRANSITIONS",
    "TERMINAL_JOB_STATUSES",
    "FunctionStatus",
    "JobStatus",
    "sources_of",
]

S = TypeVar("S", bound=StrEnum)


class FunctionStatus(StrEnum):
    AWAITING_BUNDLE = "awaiting_bundle"  #: created; the bundle upload is expected
    BUILDING = "building"  #: the bundle is being validated and unpacked
    BUILD_FAILED = "build_failed"  #: the bundle was rejected; see the build log
    READY = "ready"  #: pending jobs run
    STOPPED = "stopped"  #: pending jobs wait until the function is started


class JobStatus(StrEnum):
    PENDING = "pending"  #: waiting for its function and a free slot
    RUNNING = "running"  #: a worker is executing it
    CANCEL = "cancel"  #: cancel requested while running; the executor has not acted yet
    CANCELING = "canceling"  #: the executor is killing it
    SUCCESS = "success"  #: returned normally
    FAILURE = "failure"  #: raised, crashed, or its result could not be stored
    TIMEOUT = "timeout"  #: killed at its function's timeout
    CANCELED = "canceled"  #: canceled before or while running


TERMINAL_JOB_STATUSES = frozenset(
    {JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.TIMEOUT, JobStatus.CANCELED}
)
#: Jobs a worker may hold: they block deleting the job or its function.
ACTIVE_JOB_STATUSES = frozenset({JobStatus.RUNNING, JobStatus.CANCEL, JobStatus.CANCELING})

FUNCTION_TRANSITIONS: dict[FunctionStatus, frozenset[FunctionStatus]] = {
    FunctionStatus.AWAITING_BUNDLE: frozenset({FunctionStatus.BUILDING}),
    FunctionStatus.BUILDING: frozenset(
        {FunctionStatus.READY, FunctionStatus.STOPPED, FunctionStatus.BUILD_FAILED}
    ),
    FunctionStatus.BUILD_FAILED: frozenset(),
    FunctionStatus.READY: frozenset({FunctionStatus.STOPPED}),
    FunctionStatus.STOPPED: frozenset({FunctionStatus.READY}),
}

JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.RUNNING, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.SUCCESS,
            JobStatus.FAILURE,
            JobStatus.TIMEOUT,
            JobStatus.CANCEL,
            JobStatus.PENDING,  # a retry, or recovery after a crash of the server
        }
    ),
    JobStatus.CANCEL: frozenset(
        {
            JobStatus.CANCELING,
            JobStatus.CANCELED,
            JobStatus.SUCCESS,
            JobStatus.FAILURE,
            JobStatus.TIMEOUT,
        }
    ),
    JobStatus.CANCELING: frozenset(
        {JobStatus.CANCELED, JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.TIMEOUT}
    ),
    JobStatus.SUCCESS: frozenset(),
    JobStatus.FAILURE: frozenset({JobStatus.PENDING}),  # rerun
    JobStatus.TIMEOUT: frozenset({JobStatus.PENDING}),  # rerun
    JobStatus.CANCELED: frozenset({JobStatus.PENDING}),  # rerun
}


def sources_of(table: Mapping[S, frozenset[S]], target: S) -> list[str]:
    """Every status from which ``target`` may be reached: the WHERE clause of a transition."""
    return sorted(source.value for source, targets in table.items() if target in targets)
