"""Batched SQL for the scheduler: pending jobs to claim, starts, many compare-and-set job
updates, result rows.

A scheduler round records dozens of started and finished jobs and claims dozens more, several
times a second; one ``executemany`` per statement shape, and statements built once, keep its
cost to a handful of statements per transaction instead of several per job.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .tables import functions, jobs, results

__all__ = [
    "CLAIM_COLUMNS",
    "get_functions",
    "mark_running",
    "oldest_pending",
    "present_job_ids",
    "present_result_ids",
    "replace_results",
    "transition_each",
]

_STATUS = re.compile(r"^[a-z_]+$")
_CHUNK = 500

#: The job columns a claim reads: what running it needs, what tells whether it changed before
#: it started, and what handing its attempt back restores.
CLAIM_COLUMNS = (
    "id",
    "args",
    "kwargs",
    "environment",
    "execution_count",
    "last_execution_date",
    "last_completion_date",
)

_PENDING_OF_FUNCTION = (
    sa.select(*(jobs.c[name] for name in CLAIM_COLUMNS))
    .where(
        jobs.c.function_id == sa.bindparam("function_id"),
        jobs.c.status == "pending",
        jobs.c.id.not_in(sa.bindparam("held", expanding=True)),
    )
    .order_by(jobs.c.creation_date, jobs.c.id)
    .limit(sa.bindparam("limit"))
)
_PENDING_STATE = sa.select(jobs.c.id, jobs.c.execution_count, jobs.c.last_completion_date).where(
    jobs.c.id.in_(sa.bindparam("ids", expanding=True)), jobs.c.status == "pending"
)
_MARK_RUNNING = (
    jobs.update()
    .where(jobs.c.id == sa.bindparam("v_id"), jobs.c.status == "pending")
    .values(
        status="running",
        execution_count=sa.bindparam("v_execution_count"),
        last_execution_date=sa.bindparam("v_last_execution_date"),
    )
)
_FUNCTIONS = sa.select(functions).where(functions.c.id.in_(sa.bindparam("ids", expanding=True)))
_JOB_IDS = sa.select(jobs.c.id).where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)))
_RESULT_IDS = sa.select(results.c.id).where(results.c.id.in_(sa.bindparam("ids", expanding=True)))
_DELETE_RESULTS = results.delete().where(results.c.id.in_(sa.bindparam("ids", expanding=True)))


def oldest_pending(
    conn: sa.Connection, function_id: str, limit: int, held: Collection[str]
) -> list[dict[str, Any]]:
    """The function's oldest ``limit`` pending jobs (``CLAIM_COLUMNS``) but those in ``held``
    (claimed already: a claim writes nothing, so they are pending too)."""
    params = {"function_id": function_id, "limit": limit, "held": list(held)}
    return [dict(row) for row in conn.execute(_PENDING_OF_FUNCTION, params).mappings()]


def mark_running(conn: sa.Connection, starts: Sequence[Mapping[str, Any]]) -> set[str]:
    """Mark started jobs ``running``; returns the ids marked.

    Each start is ``{id, execution_count, last_completion_date, last_execution_date}``: the
    first two as the job was when claimed, the last the real start. A job is marked only if it
    is still ``pending`` and unchanged since (a cancel and a rerun in between change its
    ``last_completion_date``), with one more attempt run from its start. Call it inside a write
    transaction, so nobody changes the jobs between the read and the write.
    """
    expected = {start["id"]: start for start in starts}
    ids = list(expected)
    marked = []
    for begin in range(0, len(ids), _CHUNK):
        chunk = {"ids": ids[begin : begin + _CHUNK]}
        for row in conn.execute(_PENDING_STATE, chunk).mappings():
            start = expected[row["id"]]
            if (row["execution_count"], row["last_completion_date"]) == (
                start["execution_count"],
                start["last_completion_date"],
            ):
                marked.append(start)
    if marked:
        conn.execute(
            _MARK_RUNNING,
            [
                {
                    "v_id": start["id"],
                    "v_execution_count": start["execution_count"] + 1,
                    "v_last_execution_date": start["last_execution_date"],
                }
                for start in marked
            ],
        )
    return {start["id"] for start in marked}


def transition_each(
    conn: sa.Connection, sources: Iterable[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Compare-and-set per row, one ``executemany``: each row's values (every key but ``id``)
    are applied to job ``id`` only if that job is in one of ``sources``.

    Rows are grouped by their key set, so rows of different shapes may be mixed.
    """
    if not rows:
        return
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        keys = tuple(sorted(key for key in row if key != "id"))
        shapes.setdefault(keys, []).append({f"v_{key}": value for key, value in row.items()})
    for keys, params in shapes.items():
        conn.execute(_transition_statement(tuple(sources), keys), params)


@functools.lru_cache(maxsize=64)
def _transition_statement(sources: tuple[str, ...], keys: tuple[str, ...]) -> sa.Update:
    # executemany cannot expand an IN list of parameters, so the (fixed, enum-valued)
    # sources are rendered inline.
    if not all(_STATUS.match(status) for status in sources):
        raise ValueError(f"not a job status: {sources!r}")
    allowed = jobs.c.status.in_([sa.literal_column(f"'{status}'") for status in sources])
    return (
        jobs.update()
        .where(jobs.c.id == sa.bindparam("v_id"), allowed)
        .values({key: sa.bindparam(f"v_{key}") for key in keys})
    )


def replace_results(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or replace result rows (the bytes are already written), one statement each way."""
    if not rows:
        return
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), _CHUNK):
        conn.execute(_DELETE_RESULTS, {"ids": ids[start : start + _CHUNK]})
    conn.execute(results.insert(), [dict(row) for row in rows])


def get_functions(conn: sa.Connection, function_ids: Iterable[str]) -> dict[str, sa.RowMapping]:
    """The function rows with these ids (missing ones are absent), by id."""
    ids = list(function_ids)
    found: dict[str, sa.RowMapping] = {}
    for start in range(0, len(ids), _CHUNK):
        for row in conn.execute(_FUNCTIONS, {"ids": ids[start : start + _CHUNK]}).mappings():
            found[row["id"]] = row
    return found


def present_job_ids(conn: sa.Connection, job_ids: Iterable[str]) -> set[str]:
    """Which of these jobs exist."""
    return _present(conn, _JOB_IDS, job_ids)


def present_result_ids(conn: sa.Connection, blob_ids: Iterable[str]) -> set[str]:
    """Which of these result rows exist."""
    return _present(conn, _RESULT_IDS, blob_ids)


def _present(conn: sa.Connection, query: sa.Select[Any], ids: Iterable[str]) -> set[str]:
    wanted = list(ids)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(conn.execute(query, {"ids": wanted[start : start + _CHUNK]}).scalars())
    return found
