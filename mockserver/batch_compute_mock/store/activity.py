"""SQL for what one function's jobs did over time: completions per minute, runtimes.

Both read ``ix_jobs_function_completion`` (function, completion date, status, runtime), which
covers them: the cost follows the function's finished jobs, never the size of the table.
Minutes are the first 16 characters of the fixed-width ISO text timestamps
(``2024-05-01T12:03``), which SQLite and PostgreSQL cut alike.
"""

from __future__ import annotations

import sqlalchemy as sa

from .schema import jobs

__all__ = ["completions_per_minute", "latest_completion", "runtime_counts"]

_MINUTE = sa.func.substr(jobs.c.last_completion_date, 1, 16).label("minute")

_LATEST = sa.select(sa.func.max(jobs.c.last_completion_date)).where(
    jobs.c.function_id == sa.bindparam("function_id")
)
_PER_MINUTE = (
    sa.select(_MINUTE, jobs.c.status, sa.func.count())
    .where(
        jobs.c.function_id == sa.bindparam("function_id"),
        jobs.c.last_completion_date >= sa.bindparam("since"),
    )
    .group_by(_MINUTE, jobs.c.status)
)
_RUNTIMES = (
    sa.select(jobs.c.runtime, sa.func.count())
    .where(
        jobs.c.function_id == sa.bindparam("function_id"),
        jobs.c.last_completion_date.is_not(None),
        jobs.c.runtime.is_not(None),
    )
    .group_by(jobs.c.runtime)
)


def latest_completion(conn: sa.Connection, function_id: str) -> str | None:
    """When the function's most recently finished job finished (None: none has)."""
    value = conn.execute(_LATEST, {"function_id": function_id}).scalar_one_or_none()
    return None if value is None else str(value)


def completions_per_minute(
    conn: sa.Connection, function_id: str, since: str
) -> list[tuple[str, str, int]]:
    """``(minute, status, count)`` of the jobs that finished at or after ``since``; a minute
    is ``YYYY-MM-DDTHH:MM`` (UTC)."""
    rows = conn.execute(_PER_MINUTE, {"function_id": function_id, "since": since})
    return [(str(minute), str(status), int(count)) for minute, status, count in rows]


def runtime_counts(conn: sa.Connection, function_id: str) -> dict[int, int]:
    """Finished jobs of the function by ``runtime`` (whole seconds of their last attempt)."""
    rows = conn.execute(_RUNTIMES, {"function_id": function_id})
    return {int(runtime): int(count) for runtime, count in rows}
