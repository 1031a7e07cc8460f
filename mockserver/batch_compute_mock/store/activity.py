"""SQL for what one function's finished jobs did over time: how many ended, by outcome, in
each interval (the dashboard's minutes), and how long they ran.

Two partial indexes serve it, each over finished jobs only (new jobs, whose completion and
runtime are NULL, never enter them, so submitting costs nothing more):
``ix_jobs_function_finished`` (function, status, completion date) makes each interval's count
per outcome an index range count, and ``ix_jobs_function_runtime`` (function, runtime, status)
hands the runtimes over already grouped. The cost follows the function's finished jobs, never
the table's size, and the SQL is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ..kernel.states import TERMINAL_JOB_STATUSES
from .schema import jobs

__all__ = ["completions_between", "latest_completion", "runtime_counts"]

#: The statuses a finished job can have (a job waiting for a retry has a completion date and a
#: runtime too, from its last attempt, but has not finished).
OUTCOMES = tuple(sorted(TERMINAL_JOB_STATUSES))
_FUNCTION: sa.BindParameter[str] = sa.bindparam("function_id")


def _outcome_is(status: str) -> sa.ColumnElement[bool]:
    return jobs.c.status == sa.literal_column(f"'{status}'")  # ours, from the enum: no binding


_LATEST_PER_OUTCOME = sa.union_all(
    *(
        sa.select(sa.func.max(jobs.c.last_completion_date).label("latest")).where(
            jobs.c.function_id == _FUNCTION,
            _outcome_is(status),
            jobs.c.last_completion_date.is_not(None),
        )
        for status in OUTCOMES
    )
).subquery()
_LATEST = sa.select(sa.func.max(_LATEST_PER_OUTCOME.c.latest))
_RUNTIMES = (
    sa.select(jobs.c.runtime, sa.func.count())
    .where(
        jobs.c.function_id == _FUNCTION,
        jobs.c.runtime.is_not(None),
        jobs.c.status.in_(OUTCOMES),
    )
    .group_by(jobs.c.runtime)
)


def latest_completion(conn: sa.Connection, function_id: str) -> str | None:
    """When the function's most recently finished job finished (None: none has)."""
    value = conn.execute(_LATEST, {"function_id": function_id}).scalar_one_or_none()
    return None if value is None else str(value)


def completions_between(
    conn: sa.Connection, function_id: str, edges: Sequence[str]
) -> list[dict[str, int]]:
    """For each interval ``[edges[i], edges[i + 1])`` (stored timestamps, ascending), the
    function's jobs that finished in it, counted by outcome."""
    slots = len(edges) - 1
    if slots < 1:
        return []
    params = {"function_id": function_id, **{f"edge{i}": edge for i, edge in enumerate(edges)}}
    counts: list[dict[str, int]] = [dict.fromkeys(OUTCOMES, 0) for _ in range(slots)]
    for slot, status, count in conn.execute(_between(slots), params):
        counts[int(slot)][str(status)] = int(count)
    return counts


@functools.cache
def _between(slots: int) -> sa.CompoundSelect:
    """One statement: a range count per interval and outcome (``slots`` x 4 index seeks)."""
    terms: list[Any] = [
        sa.select(
            sa.literal_column(str(slot)).label("slot"),
            sa.literal_column(f"'{status}'").label("status"),
            sa.func.count().label("count"),
        ).where(
            jobs.c.function_id == _FUNCTION,
            _outcome_is(status),
            jobs.c.last_completion_date >= sa.bindparam(f"edge{slot}"),
            jobs.c.last_completion_date < sa.bindparam(f"edge{slot + 1}"),
        )
        for slot in range(slots)
        for status in OUTCOMES
    ]
    return sa.union_all(*terms)


def runtime_counts(conn: sa.Connection, function_id: str) -> dict[int, int]:
    """The function's finished jobs by ``runtime`` (whole seconds of their last attempt)."""
    rows = conn.execute(_RUNTIMES, {"function_id": function_id})
    return {int(runtime): int(count) for runtime, count in rows}
