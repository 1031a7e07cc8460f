"""The lifecycles of functions and jobs: their statuses and every move between them.

A move is a named ``Edge``: the statuses it may start from and the ones it may end in. The
store applies an edge as compare-and-set (``UPDATE ... SET status = target WHERE status IN
sources``) and is the only code that writes a status, so two racing actors cannot both win:
a cancel that arrives after the scheduler recorded ``success`` matches no row and changes
nothing. ``JOB_TRANSITIONS`` and ``FUNCTION_TRANSITIONS`` are derived from the edges, so the
table and what the code may do cannot disagree.

Jobs::

    pending ──START──> running ──FINISH──> success | failure | timeout
       │                  │ └──RETRY──> pending        (attempts left, or the server stopped)
       │                  └──ASK_CANCEL──> cancel ──BEGIN_CANCELING──> canceling
       ├──CANCEL_PENDING──> canceled        cancel | canceling ──CONFIRM_CANCEL──> canceled
       └──ABANDON──> failure  (its function failed to build)   (or FINISH, if it ended first)
    failure | timeout | canceled ──RERUN──> pending

Functions::

    awaiting_bundle ──RECEIVE_BUNDLE──> building ──BUILT──> ready | stopped
                                                  └──BUILD_FAILED──> build_failed
    ready ──STOP──> stopped ──START──> ready
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "FUNCTION_TRANSITIONS",
    "JOB_TRANSITIONS",
    "TERMINAL_JOB_STATUSES",
    "Edge",
    "FunctionEdge",
    "FunctionStatus",
    "JobEdge",
    "JobStatus",
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


@dataclass(frozen=True)
class Edge(Generic[S]):
    """One named move: from any of ``sources`` to one of ``targets``."""

    name: str
    sources: frozenset[S]
    targets: frozenset[S]

    def check_target(self, target: S | str) -> str:
        """``target`` as stored; ``ValueError`` if this edge cannot end there (a bug)."""
        value = str(target)
        if value not in self.targets:
            raise ValueError(f"{self.name} cannot end in {value!r}; it ends in {self._names()}")
        return value

    def allows(self, status: S | str) -> bool:
        return str(status) in self.sources

    def _names(self) -> str:
        return ", ".join(sorted(self.targets))


def _edge(name: str, sources: Iterable[S], targets: Iterable[S]) -> Edge[S]:
    return Edge(name, frozenset(sources), frozenset(targets))


_J = JobStatus
_ENDINGS = (_J.SUCCESS, _J.FAILURE, _J.TIMEOUT)


class JobEdge:
    """Every move a job can make (see the module docstring)."""

    START = _edge("start", [_J.PENDING], [_J.RUNNING])
    CANCEL_PENDING = _edge("cancel pending", [_J.PENDING], [_J.CANCELED])
    ASK_CANCEL = _edge("ask to cancel", [_J.RUNNING], [_J.CANCEL])
    BEGIN_CANCELING = _edge("begin canceling", [_J.CANCEL], [_J.CANCELING])
    FINISH = _edge("finish", [_J.RUNNING, _J.CANCEL, _J.CANCELING], _ENDINGS)
    CONFIRM_CANCEL = _edge("confirm cancel", [_J.CANCEL, _J.CANCELING], [_J.CANCELED])
    RETRY = _edge("retry", [_J.RUNNING], [_J.PENDING])
    RERUN = _edge("rerun", [_J.FAILURE, _J.TIMEOUT, _J.CANCELED], [_J.PENDING])
    ABANDON = _edge("abandon", [_J.PENDING], [_J.FAILURE])

    ALL: tuple[Edge[JobStatus], ...] = (
        START,
        CANCEL_PENDING,
        ASK_CANCEL,
        BEGIN_CANCELING,
        FINISH,
        CONFIRM_CANCEL,
        RETRY,
        RERUN,
        ABANDON,
    )


_F = FunctionStatus


class FunctionEdge:
    """Every move a function can make (see the module docstring)."""

    RECEIVE_BUNDLE = _edge("receive bundle", [_F.AWAITING_BUNDLE], [_F.BUILDING])
    BUILT = _edge("built", [_F.BUILDING], [_F.READY, _F.STOPPED])
    BUILD_FAILED = _edge("build failed", [_F.BUILDING], [_F.BUILD_FAILED])
    START = _edge("start", [_F.STOPPED], [_F.READY])
    STOP = _edge("stop", [_F.READY], [_F.STOPPED])

    ALL: tuple[Edge[FunctionStatus], ...] = (RECEIVE_BUNDLE, BUILT, BUILD_FAILED, START, STOP)


def _table(statuses: Iterable[S], edges: Iterable[Edge[S]]) -> dict[S, frozenset[S]]:
    table: dict[S, set[S]] = {status: set() for status in statuses}
    for edge in edges:
        for source in edge.sources:
            table[source] |= edge.targets
    return {status: frozenset(targets) for status, targets in table.items()}


#: status -> every status it can move to directly (derived from the edges).
JOB_TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = _table(JobStatus, JobEdge.ALL)
FUNCTION_TRANSITIONS: Mapping[FunctionStatus, frozenset[FunctionStatus]] = _table(
    FunctionStatus, FunctionEdge.ALL
)
